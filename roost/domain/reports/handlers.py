"""Staff are notified of a new report (``admin.report``, as on Mastodon: every
account whose role grants ``manage_reports``), and the reporter is told by
mail when staff close their report.

The payload names the report only: the address is read (sealed) from the
reporter's account when the job runs, so an erased reporter is sent nothing.
Without SMTP settings the job logs that nothing was sent and ends.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from roost.db.tables import account_roles, accounts, reports, roles, users
from roost.domain.jobs import JobContext
from roost.domain.notifications.actions import do_notify
from roost.domain.reports.jobs import ReportFiled, ReportResolvedMail
from roost.domain.roles.permissions import Permission
from roost.jobs.registry import handles
from roost.mail import messages, smtp

log = logging.getLogger("roost.mail")


@handles(ReportResolvedMail)
async def send_report_resolved(ctx: JobContext, job: ReportResolvedMail) -> None:
    target = accounts.alias("target")
    async with ctx.db.read() as conn:
        row = (
            await conn.execute(
                select(
                    accounts.c.username,
                    users.c.email,
                    target.c.username.label("target_username"),
                    reports.c.action_taken_at,
                )
                .select_from(
                    reports.join(accounts, accounts.c.id == reports.c.account_id)
                    .join(users, users.c.account_id == reports.c.account_id)
                    .join(target, target.c.id == reports.c.target_account_id)
                )
                # An automatic report names the account itself as reporter
                # (roost/domain/reports/automatic.py): nobody to tell.
                .where(
                    reports.c.id == job.report_id,
                    reports.c.account_id != reports.c.target_account_id,
                )
            )
        ).first()
    if row is None or row.action_taken_at is None:
        return  # gone (erased) or reopened since: nothing to say
    message = messages.report_resolved(ctx.settings, row.email, row.username, row.target_username)
    try:
        await smtp.send(ctx.settings.smtp_url, message, ctx.settings.smtp_timeout_s)
    except smtp.MailNotConfigured:
        log.warning(
            "no mail sent to @%s (report resolved): ROOST_SMTP_URL is not set", row.username
        )
        return
    log.info("mail sent to @%s (report resolved)", row.username)


@handles(ReportFiled)
async def notify_staff(ctx: JobContext, job: ReportFiled) -> None:
    handles_reports = Permission.MANAGE_REPORTS | Permission.ADMINISTRATOR
    async with ctx.db.write() as tx:
        reporter = (
            await tx.execute(select(reports.c.account_id).where(reports.c.id == job.report_id))
        ).scalar_one_or_none()
        if reporter is None:
            return  # gone since (erased)
        staff = (
            await tx.execute(
                select(account_roles.c.account_id)
                .join(roles, roles.c.id == account_roles.c.role_id)
                .where(roles.c.permissions.op("&")(int(handles_reports)) != 0)
            )
        ).scalars()
        for account_id in list(staff):
            await do_notify(
                tx,
                type="admin.report",
                account_id=account_id,
                from_account_id=reporter,
                report_id=job.report_id,
                event_key=f"admin.report:{job.report_id}:{account_id}",
            )
