"""The ``mail.send`` job: a mail leaves through the outbox, so a slow or dead
SMTP server never holds up the request that asked for it, and a failed
delivery is retried with the runner's backoff (then parked, where
``roost jobs list --parked`` shows it).

The payload names the link's row and the account, nothing else: the address
is read (sealed) from the account when the job runs, and the token is derived
from the row (roost/domain/accounts/email_tokens.py). So the jobs table never
holds an address or a token, and an erased account's mail is not sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select

from roost.db.engine import Tx
from roost.db.tables import accounts, email_tokens, users
from roost.domain.accounts import email_tokens as tokens
from roost.domain.jobs import JobContext
from roost.jobs.outbox import enqueue
from roost.jobs.registry import Job, handles
from roost.mail import messages, smtp

log = logging.getLogger("roost.mail")


@dataclass(frozen=True)
class SendLinkMail(Job, kind="mail.send"):
    """Mail the link of one e-mail token row to its account's address."""

    account_id: int
    token_id: int


_PATHS = {tokens.CONFIRM: "/auth/confirmation", tokens.RESET: "/auth/password/edit"}


async def enqueue_link_mail(tx: Tx, account_id: int, purpose: str) -> int:
    """Issue a link of ``purpose`` and queue the mail carrying it, in ``tx``."""
    token_id = await tokens.do_issue(tx, account_id, purpose)
    await enqueue(tx, SendLinkMail(account_id, token_id), max_attempts=10)
    return token_id


@handles(SendLinkMail)
async def send_link_mail(ctx: JobContext, job: SendLinkMail) -> None:
    settings = ctx.settings
    async with ctx.db.read() as conn:
        row = (
            await conn.execute(
                select(
                    email_tokens.c.purpose,
                    email_tokens.c.used_at,
                    accounts.c.username,
                    users.c.email,
                )
                .select_from(
                    email_tokens.join(accounts, accounts.c.id == email_tokens.c.account_id).join(
                        users, users.c.account_id == email_tokens.c.account_id
                    )
                )
                .where(
                    email_tokens.c.id == job.token_id,
                    email_tokens.c.account_id == job.account_id,
                )
            )
        ).first()
    if row is None or row.used_at is not None:
        return  # the account or the link is gone, or already used: nothing to say
    token = tokens.token_for(settings.secret_key, job.token_id, row.purpose)
    link = f"{settings.base_url}{_PATHS[row.purpose]}?token={token}"
    make = messages.confirmation if row.purpose == tokens.CONFIRM else messages.password_reset
    message = make(settings, row.email, row.username, link)
    try:
        await smtp.send(settings.smtp_url, message, settings.smtp_timeout_s)
    except smtp.MailNotConfigured:
        hint = (
            f"`roost accounts confirm {row.username}` confirms the address"
            if row.purpose == tokens.CONFIRM
            else "password reset links cannot reach anyone until it is"
        )
        log.warning(
            "no mail sent to @%s (%s link): ROOST_SMTP_URL is not set; %s",
            row.username,
            row.purpose,
            hint,
        )
        return
    log.info("mail sent to @%s (%s link)", row.username, row.purpose)
