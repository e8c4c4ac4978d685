"""Audit entries for what is not a staff decision but must be traceable:
sign-ins to staff accounts, token revocations, exports and erasures.

Each is written by the action that does it, in its transaction. People acting
on their own account are recorded with the permission ``own_account``.
"""

from __future__ import annotations

from sqlalchemy import literal, select

from roost.db.engine import Tx
from roost.domain.audit.chain import CONSOLE, Staff, record
from roost.domain.roles.permissions import is_staff
from roost.domain.roles.queries import permissions_of

OWN_ACCOUNT = "own_account"


async def _is_staff(tx: Tx, account_id: int) -> bool:
    mask = (await tx.execute(select(permissions_of(literal(account_id))))).scalar_one()
    return is_staff(int(mask or 0))


async def staff_signed_in(tx: Tx, account_id: int, *, how: str) -> None:
    """A new token or web session for ``account_id``: recorded when it is staff."""
    if await _is_staff(tx, account_id):
        await record(
            tx,
            action="staff.sign_in",
            permission=OWN_ACCOUNT,
            by=Staff(account_id, how),
            subject_type="account",
            target_account_id=account_id,
        )


async def tokens_revoked(
    tx: Tx, account_id: int | None, count: int, *, how: str, by: Staff | None = None
) -> None:
    """``count`` tokens of ``account_id`` revoked, by the owner (``by`` None)
    or the operator; an app-only token (no account) too."""
    if count <= 0:
        return
    await record(
        tx,
        action="token.revoke",
        permission=OWN_ACCOUNT if by is None else "manage_user_access",
        by=by or Staff(account_id, how),
        subject_type="token",
        target_account_id=account_id,
        details={"count": count},
    )


async def exported(tx: Tx, account_id: int, export_id: int) -> None:
    await record(
        tx,
        action="account.export",
        permission=OWN_ACCOUNT,
        by=Staff(account_id, "api"),
        subject_type="export",
        subject_id=export_id,
        target_account_id=account_id,
    )


async def erased(tx: Tx, tables_changed: int, *, by: Staff = CONSOLE) -> None:
    """An erasure: nothing names the account (its entries are blanked too)."""
    await record(
        tx,
        action="account.erase",
        permission="delete_user_data" if by.via == "console" else OWN_ACCOUNT,
        by=by,
        subject_type="account",
        details={"rows_changed": tables_changed},
    )
