"""Entering, approving, refusing and disclosing lawful requests.

Each action re-reads the actor's role and the request in its own transaction
and checks every rule there, so no caller can skip one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import accounts, lawful_approvals, lawful_requests
from roost.domain.audit.chain import Staff, record
from roost.domain.lawful.model import (
    APPROVALS_NEEDED,
    KINDS,
    MAX_AUTHORITY,
    MAX_LEGAL_BASIS,
    MAX_TEXT,
    PERMISSION,
    Approval,
    LawfulRequest,
)
from roost.domain.roles.permissions import grants, key
from roost.domain.roles.queries import role_of
from roost.errors import Forbidden, NotFound, RuleBroken
from roost.ids import new_id
from roost.keys.ring import seal

SUBJECT = "lawful_request"


async def check_actor(conn: AsyncConnection, actor: Staff) -> int:
    """The acting staff member's account id, if their role grants the permission."""
    if actor.account_id is None:
        raise Forbidden(
            "a lawful request is handled by a named staff member: say who with --as NAME"
        )
    held = await role_of(conn, actor.account_id)
    if held is None or not grants(held.permissions, PERMISSION):
        raise Forbidden(f"lawful requests need the permission {key(PERMISSION)}")
    return actor.account_id


def parse_kinds(text: str) -> tuple[str, ...]:
    words = [w.strip() for w in text.replace(",", " ").split() if w.strip()]
    unknown = [w for w in words if w not in KINDS]
    if unknown:
        raise RuleBroken(f"unknown data kind {unknown[0]!r}; known: {', '.join(KINDS)}")
    if not words:
        raise RuleBroken(f"name at least one data kind: {', '.join(KINDS)}")
    return tuple(k for k in KINDS if k in words)


async def create(
    tx: Tx,
    actor: Staff,
    *,
    account_id: int,
    authority: str,
    legal_basis: str,
    verification: str,
    verified_by_account_id: int,
    starts_at: datetime,
    ends_at: datetime,
    kinds: tuple[str, ...],
) -> int:
    requester = await check_actor(tx.conn, actor)
    authority, legal_basis, verification = (
        authority.strip(),
        legal_basis.strip(),
        verification.strip(),
    )
    if not authority or len(authority) > MAX_AUTHORITY:
        raise RuleBroken(f"the authority is 1 to {MAX_AUTHORITY} characters")
    if not legal_basis or len(legal_basis) > MAX_LEGAL_BASIS:
        raise RuleBroken(f"the legal basis is 1 to {MAX_LEGAL_BASIS} characters")
    if not verification or len(verification) > MAX_TEXT:
        raise RuleBroken(f"say how the request was verified (1 to {MAX_TEXT} characters)")
    if not starts_at < ends_at:
        raise RuleBroken("the date range must start before it ends")
    if not kinds or any(k not in KINDS for k in kinds):
        raise RuleBroken(f"the data kinds are among: {', '.join(KINDS)}")
    named = (
        await tx.execute(select(accounts.c.id).where(accounts.c.id == account_id))
    ).scalar_one_or_none()
    if named is None:
        raise NotFound(f"no account with id {account_id}")
    verifier = (
        await tx.execute(select(accounts.c.id).where(accounts.c.id == verified_by_account_id))
    ).scalar_one_or_none()
    if verifier is None:
        raise NotFound("the verifier is no account here")
    now = utcnow()
    request_id = new_id()
    await tx.execute(
        lawful_requests.insert().values(
            id=request_id,
            account_id=account_id,
            authority=authority,
            legal_basis=legal_basis,
            verification=seal(account_id, verification),
            verified_by_account_id=verified_by_account_id,
            requested_by_account_id=requester,
            starts_at=starts_at,
            ends_at=ends_at,
            kinds=",".join(kinds),
            state="pending",
            created_at=now,
            updated_at=now,
        )
    )
    await record(
        tx,
        action="lawful.create",
        permission=key(PERMISSION),
        by=actor,
        subject_type=SUBJECT,
        subject_id=request_id,
        target_account_id=account_id,
        details={
            "kinds": list(kinds),
            "starts_at": starts_at.isoformat(),
            "ends_at": ends_at.isoformat(),
        },
        personal={
            "authority": authority,
            "legal_basis": legal_basis,
            # Not the verifier's id: an erasure blanks only the records that
            # name an account as actor or target (it is on the request row).
            "verification": verification,
        },
    )
    return request_id


async def _locked(tx: Tx, request_id: int) -> Any:
    query = select(lawful_requests).where(lawful_requests.c.id == request_id)
    if tx.conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = (await tx.execute(query)).first()
    if row is None:
        raise NotFound(f"no lawful request {request_id}")
    return row


async def _approvers(conn: AsyncConnection, request_id: int) -> int:
    return int(
        (
            await conn.execute(
                select(func.count())
                .select_from(lawful_approvals)
                .where(lawful_approvals.c.request_id == request_id)
            )
        ).scalar_one()
    )


async def approve(tx: Tx, actor: Staff, request_id: int) -> str:
    """Add the actor's approval; the request's state after it."""
    approver = await check_actor(tx.conn, actor)
    row = await _locked(tx, request_id)
    if row.state != "pending":
        raise RuleBroken(f"lawful request {request_id} is {row.state}, not pending")
    if row.requested_by_account_id == approver:
        raise Forbidden("the staff member who entered a lawful request cannot approve it")
    already = (
        await tx.execute(
            select(lawful_approvals.c.id).where(
                lawful_approvals.c.request_id == request_id,
                lawful_approvals.c.approver_account_id == approver,
            )
        )
    ).first()
    if already is not None:
        raise RuleBroken(f"you have already approved lawful request {request_id}")
    # The database refuses the same two cases again (unique approver per
    # request, approver other than the requester), should anything slip by.
    await tx.execute(
        lawful_approvals.insert().values(
            id=new_id(),
            request_id=request_id,
            approver_account_id=approver,
            requester_account_id=row.requested_by_account_id,
            created_at=utcnow(),
        )
    )
    count = await _approvers(tx.conn, request_id)
    state = "approved" if count >= APPROVALS_NEEDED else "pending"
    await tx.execute(
        update(lawful_requests)
        .where(lawful_requests.c.id == request_id)
        .values(state=state, updated_at=utcnow())
    )
    await record(
        tx,
        action="lawful.approve",
        permission=key(PERMISSION),
        by=actor,
        subject_type=SUBJECT,
        subject_id=request_id,
        target_account_id=row.account_id,
        details={"approvals": count, "state": state},
    )
    return state


async def refuse(tx: Tx, actor: Staff, request_id: int, reason: str) -> None:
    decider = await check_actor(tx.conn, actor)
    reason = reason.strip()
    if not reason or len(reason) > MAX_TEXT:
        raise RuleBroken(f"a refusal gives its reason (1 to {MAX_TEXT} characters)")
    row = await _locked(tx, request_id)
    if row.state not in ("pending", "approved"):
        raise RuleBroken(f"lawful request {request_id} is {row.state}: it cannot be refused")
    sealed = seal(row.account_id, reason) if row.account_id is not None else reason
    await tx.execute(
        update(lawful_requests)
        .where(lawful_requests.c.id == request_id)
        .values(
            state="refused",
            refusal_reason=sealed,
            decided_by_account_id=decider,
            updated_at=utcnow(),
        )
    )
    await record(
        tx,
        action="lawful.refuse",
        permission=key(PERMISSION),
        by=actor,
        subject_type=SUBJECT,
        subject_id=request_id,
        target_account_id=row.account_id,
        personal={"reason": reason},
    )


async def _check_disclosable(conn: AsyncConnection, row: Any) -> None:
    if row.state != "approved":
        raise RuleBroken(
            f"lawful request {row.id} is {row.state}: only an approved request is disclosed"
        )
    count = await _approvers(conn, row.id)
    if count < APPROVALS_NEEDED:
        raise RuleBroken(
            f"lawful request {row.id} has {count} approval(s); {APPROVALS_NEEDED} are needed"
        )
    if row.account_id is None:
        raise RuleBroken(f"the account lawful request {row.id} named has been erased")


async def disclosable(conn: AsyncConnection, actor: Staff, request_id: int) -> LawfulRequest:
    """The request, if the actor may package it now (checked again on recording)."""
    await check_actor(conn, actor)
    row = (
        await conn.execute(select(lawful_requests).where(lawful_requests.c.id == request_id))
    ).first()
    if row is None:
        raise NotFound(f"no lawful request {request_id}")
    await _check_disclosable(conn, row)
    found = await get(conn, request_id)
    assert found is not None
    return found


async def disclosed(
    tx: Tx, actor: Staff, request_id: int, *, sha256: str, size: int, kinds: tuple[str, ...]
) -> None:
    """Record the package: the request becomes ``disclosed``, once."""
    decider = await check_actor(tx.conn, actor)
    row = await _locked(tx, request_id)
    await _check_disclosable(tx.conn, row)
    if tuple(row.kinds.split(",")) != kinds:
        raise RuleBroken("the package does not hold the approved kinds")
    await tx.execute(
        update(lawful_requests)
        .where(lawful_requests.c.id == request_id, lawful_requests.c.state == "approved")
        .values(
            state="disclosed",
            package_sha256=sha256,
            decided_by_account_id=decider,
            updated_at=utcnow(),
        )
    )
    await record(
        tx,
        action="lawful.disclose",
        permission=key(PERMISSION),
        by=actor,
        subject_type=SUBJECT,
        subject_id=request_id,
        target_account_id=row.account_id,
        details={"sha256": sha256, "size": size, "kinds": list(kinds)},
    )


def _request(row: Any, approvals: list[Approval]) -> LawfulRequest:
    return LawfulRequest(
        id=row.id,
        account_id=row.account_id,
        authority=row.authority,
        legal_basis=row.legal_basis,
        verification=row.verification,
        verified_by_account_id=row.verified_by_account_id,
        requested_by_account_id=row.requested_by_account_id,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        kinds=tuple(k for k in row.kinds.split(",") if k),
        state=row.state,
        refusal_reason=row.refusal_reason,
        decided_by_account_id=row.decided_by_account_id,
        package_sha256=row.package_sha256,
        created_at=row.created_at,
        updated_at=row.updated_at,
        approvals=tuple(approvals),
    )


async def get(conn: AsyncConnection, request_id: int) -> LawfulRequest | None:
    row = (
        await conn.execute(select(lawful_requests).where(lawful_requests.c.id == request_id))
    ).first()
    if row is None:
        return None
    approvals = [
        Approval(a.approver_account_id, a.created_at)
        for a in await conn.execute(
            select(lawful_approvals)
            .where(lawful_approvals.c.request_id == request_id)
            .order_by(lawful_approvals.c.created_at, lawful_approvals.c.id)
        )
    ]
    return _request(row, approvals)


async def show(conn: AsyncConnection, actor: Staff, request_id: int) -> LawfulRequest:
    if actor.account_id is not None:
        await check_actor(conn, actor)
    found = await get(conn, request_id)
    if found is None:
        raise NotFound(f"no lawful request {request_id}")
    return found


async def listed(conn: AsyncConnection, actor: Staff, *, limit: int = 100) -> list[LawfulRequest]:
    """Newest first. The console (operator) may read them; a named staff
    member needs the permission."""
    if actor.account_id is not None:
        await check_actor(conn, actor)
    rows = (
        await conn.execute(
            select(lawful_requests.c.id).order_by(lawful_requests.c.created_at.desc()).limit(limit)
        )
    ).all()
    found = [await get(conn, r.id) for r in rows]
    return [r for r in found if r is not None]


async def downloaded(tx: Tx, actor: Staff, request_id: int) -> None:
    """A copy of a disclosed package was handed to a staff member: recorded."""
    await check_actor(tx.conn, actor)
    row = await _locked(tx, request_id)
    if row.state != "disclosed":
        raise RuleBroken(f"lawful request {request_id} is {row.state}: it has no package")
    await record(
        tx,
        action="lawful.download",
        permission=key(PERMISSION),
        by=actor,
        subject_type=SUBJECT,
        subject_id=request_id,
        target_account_id=row.account_id,
        details={"sha256": row.package_sha256},
    )
