"""The account is told of a strike by mail, when staff asked for it
(``send_email_notification``). The payload names the strike only: the address
is read (sealed) from the account when the job runs, so an erased account is
sent nothing. Without SMTP settings the job logs that nothing was sent and ends.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from roost.db.tables import account_warnings, accounts, users
from roost.domain.jobs import JobContext
from roost.domain.strikes.jobs import WarningMail
from roost.jobs.registry import handles
from roost.mail import messages, smtp

log = logging.getLogger("roost.mail")


@handles(WarningMail)
async def send_warning(ctx: JobContext, job: WarningMail) -> None:
    async with ctx.db.read() as conn:
        row = (
            await conn.execute(
                select(
                    accounts.c.username,
                    users.c.email,
                    account_warnings.c.action,
                    account_warnings.c.text,
                )
                .select_from(
                    account_warnings.join(
                        accounts, accounts.c.id == account_warnings.c.account_id
                    ).join(users, users.c.account_id == account_warnings.c.account_id)
                )
                .where(account_warnings.c.id == job.warning_id)
            )
        ).first()
    if row is None:
        return  # gone (erased) since
    link = f"{ctx.settings.base_url}/settings/strikes/{job.warning_id}"
    message = messages.account_warning(
        ctx.settings, row.email, row.username, row.action, row.text or "", link
    )
    try:
        await smtp.send(ctx.settings.smtp_url, message, ctx.settings.smtp_timeout_s)
    except smtp.MailNotConfigured:
        log.warning("no mail sent to @%s (strike): ROOST_SMTP_URL is not set", row.username)
        return
    log.info("mail sent to @%s (strike)", row.username)
