"""Reports the server files itself, when a check it runs finds something staff
must see (an upload matching a known-image list).

Roost has no account of its own to file them under, so the reported account
is also named as the reporter; such a report is never mailed to its
"reporter" (roost/domain/reports/handlers.py), and the account cannot see it:
reports are shown only to staff.
"""

from __future__ import annotations

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import reports
from roost.domain.reports.jobs import ReportFiled
from roost.ids import new_id
from roost.jobs.outbox import enqueue


async def do_file_automatic_report(
    tx: Tx, target_account_id: int, *, category: str, comment: str
) -> int:
    """File a report about ``target_account_id``; its id. ``comment`` is shown
    to staff and must hold nothing the account should not read in an export
    of its own data (it is stored plain, like a category)."""
    now = utcnow()
    report_id = new_id()
    await tx.execute(
        reports.insert().values(
            id=report_id,
            account_id=target_account_id,
            target_account_id=target_account_id,
            comment=comment,
            category=category,
            forward=False,
            created_at=now,
            updated_at=now,
        )
    )
    await enqueue(tx, ReportFiled(report_id))
    return report_id
