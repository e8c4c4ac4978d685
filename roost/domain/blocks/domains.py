"""Domain blocks and allows: what staff decide about other servers.

Federation (roost/domain/federation/remote.py) asks ``domain_policy(conn,
domain)`` for every remote server it meets: a suspended server is neither
fetched from, stored, acted on nor delivered to; a silenced server's
accounts are stored silenced. That one function is the whole contract:
the most specific block covering the domain (a block on ``example.com``
covers ``social.example.com``, as in Mastodon) and whether the domain is
explicitly allowed. In the allow-list mode (``ROOST_FEDERATION_MODE=
allowlist``, Mastodon's limited federation mode) a server not allowed is
``refused`` as a suspended one is.

Severities are Mastodon's: ``noop`` (only the flags apply), ``silence``
(limited: its accounts hidden from those not following them), ``suspend``
(refused entirely). ``reject_media`` and ``reject_reports`` add to any of
them. A second block on a domain already covered is refused unless it is
stricter than the one in force (Mastodon's rule).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import accounts, instance_domain_allows, instance_domain_blocks
from roost.domain.accounts.email_domains import normalise
from roost.domain.audit.chain import CONSOLE, Staff, record
from roost.domain.events import AccountChanged
from roost.domain.graph.counts import neighbours, recount
from roost.domain.pagination import newest_first, page_of
from roost.domain.roles.permissions import Permission, key
from roost.domain.types import Page
from roost.errors import Conflict, NotFound, RuleBroken
from roost.ids import new_id

SEVERITIES = ("noop", "silence", "suspend")
_RANK = {"noop": 0, "silence": 1, "suspend": 2}
FEDERATION = key(Permission.MANAGE_FEDERATION)


@dataclass(frozen=True)
class DomainBlock:
    id: int
    domain: str
    severity: str
    reject_media: bool
    reject_reports: bool
    private_comment: str | None
    public_comment: str | None
    obfuscate: bool
    created_at: datetime

    @property
    def digest(self) -> str:
        """SHA-256 of the domain, so that an obfuscated block can be checked."""
        return hashlib.sha256(self.domain.encode()).hexdigest()

    @property
    def public_domain(self) -> str:
        """The domain as the public list shows it: Mastodon's obfuscation
        (the middle half starred, dots kept) when ``obfuscate`` is set."""
        if not self.obfuscate:
            return self.domain
        length = len(self.domain)
        shown = length // 4
        return "".join(
            "*" if shown < i < length - shown and c != "." else c for i, c in enumerate(self.domain)
        )

    def stricter_than(self, other: DomainBlock) -> bool:
        if self.severity == "suspend":
            return True
        if _RANK[other.severity] > _RANK[self.severity]:
            return False
        return (self.reject_media or not other.reject_media) and (
            self.reject_reports or not other.reject_reports
        )


@dataclass(frozen=True)
class DomainAllow:
    id: int
    domain: str
    created_at: datetime


@dataclass(frozen=True)
class DomainPolicy:
    """What federation must do with a server: ``block`` is the most
    specific block covering it (None: not blocked); ``allowed`` says whether
    staff listed it among the allowed servers."""

    domain: str
    block: DomainBlock | None
    allowed: bool
    # The allow-list mode is on (ROOST_FEDERATION_MODE=allowlist).
    allowlist: bool = False

    @property
    def suspended(self) -> bool:
        return self.block is not None and self.block.severity == "suspend"

    @property
    def refused(self) -> bool:
        """Not federated with at all: suspended, or, in the allow-list mode,
        not allowed. Nothing is taken from it, sent to it or fetched from it."""
        return self.suspended or (self.allowlist and not self.allowed)

    @property
    def silenced(self) -> bool:
        return self.block is not None and self.block.severity == "silence"

    @property
    def reject_media(self) -> bool:
        return self.block is not None and (self.block.reject_media or self.suspended)

    @property
    def reject_reports(self) -> bool:
        return self.block is not None and (self.block.reject_reports or self.suspended)


@dataclass(frozen=True)
class BlockChange:
    """The fields of a block to set; None leaves one as it is."""

    severity: str | None = None
    reject_media: bool | None = None
    reject_reports: bool | None = None
    private_comment: str | None = None
    public_comment: str | None = None
    obfuscate: bool | None = None


def _block(row: object) -> DomainBlock:
    r = row._mapping  # type: ignore[attr-defined]
    return DomainBlock(
        int(r["id"]),
        r["domain"],
        r["severity"],
        bool(r["reject_media"]),
        bool(r["reject_reports"]),
        r["private_comment"],
        r["public_comment"],
        bool(r["obfuscate"]),
        r["created_at"],
    )


def _covering(domain: str) -> list[str]:
    """``domain`` and each parent domain of it, most specific first."""
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


async def rule_for(conn: AsyncConnection, domain: str) -> DomainBlock | None:
    """The most specific block covering ``domain`` (itself or a parent)."""
    candidates = _covering(normalise(domain))
    rows = await conn.execute(
        select(instance_domain_blocks).where(instance_domain_blocks.c.domain.in_(candidates))
    )
    found = [_block(r) for r in rows]
    return max(found, key=lambda b: len(b.domain)) if found else None


async def domain_policy(
    conn: AsyncConnection, domain: str, *, allowlist: bool = False
) -> DomainPolicy:
    """What staff decided about the server at ``domain``: the one question
    federation asks before fetching from or delivering to it. ``allowlist``:
    the allow-list mode is on, so a server not allowed is ``refused``."""
    name = normalise(domain)
    allowed = (
        await conn.execute(
            select(instance_domain_allows.c.id).where(
                instance_domain_allows.c.domain.in_(_covering(name))
            )
        )
    ).first() is not None
    return DomainPolicy(name, await rule_for(conn, name), allowed, allowlist)


def _check_severity(severity: str) -> None:
    if severity not in SEVERITIES:
        raise RuleBroken(f"Severity must be one of {', '.join(SEVERITIES)}")


def _comment(text: str | None) -> str | None:
    if text is None:
        return None
    text = text.strip()
    if len(text) > 1000:
        raise RuleBroken("A comment is at most 1000 characters")
    return text or None


async def do_block_domain(
    tx: Tx, domain: str, change: BlockChange, by: Staff = CONSOLE
) -> DomainBlock:
    """Block ``domain``. Conflict when a block already covers it and this one
    is not stricter (or it is the same domain: change that one instead)."""
    name = normalise(domain)
    severity = change.severity or "silence"
    _check_severity(severity)
    now = utcnow()
    block = DomainBlock(
        new_id(),
        name,
        severity,
        bool(change.reject_media),
        bool(change.reject_reports),
        _comment(change.private_comment),
        _comment(change.public_comment),
        bool(change.obfuscate),
        now,
    )
    existing = await rule_for(tx.conn, name)
    if existing is not None and (existing.domain == name or not block.stricter_than(existing)):
        raise Conflict(f"You have already imposed stricter limits on {existing.domain}.")
    await tx.execute(
        instance_domain_blocks.insert().values(
            id=block.id,
            domain=name,
            severity=severity,
            reject_media=block.reject_media,
            reject_reports=block.reject_reports,
            private_comment=block.private_comment,
            public_comment=block.public_comment,
            obfuscate=block.obfuscate,
            created_at=now,
            updated_at=now,
        )
    )
    await _audit(tx, "domain_block.create", block, by)
    await _impose(tx, block)
    return block


async def domain_block(conn: AsyncConnection, block_id: int) -> DomainBlock:
    row = (
        await conn.execute(
            select(instance_domain_blocks).where(instance_domain_blocks.c.id == block_id)
        )
    ).first()
    if row is None:
        raise NotFound()
    return _block(row)


async def do_change_domain_block(
    tx: Tx, block_id: int, change: BlockChange, by: Staff = CONSOLE
) -> DomainBlock:
    block = await domain_block(tx.conn, block_id)
    if change.severity is not None:
        _check_severity(change.severity)
    changed = replace(
        block,
        severity=change.severity or block.severity,
        reject_media=block.reject_media if change.reject_media is None else change.reject_media,
        reject_reports=(
            block.reject_reports if change.reject_reports is None else change.reject_reports
        ),
        private_comment=(
            block.private_comment
            if change.private_comment is None
            else _comment(change.private_comment)
        ),
        public_comment=(
            block.public_comment
            if change.public_comment is None
            else _comment(change.public_comment)
        ),
        obfuscate=block.obfuscate if change.obfuscate is None else change.obfuscate,
    )
    await tx.execute(
        update(instance_domain_blocks)
        .where(instance_domain_blocks.c.id == block_id)
        .values(
            severity=changed.severity,
            reject_media=changed.reject_media,
            reject_reports=changed.reject_reports,
            private_comment=changed.private_comment,
            public_comment=changed.public_comment,
            obfuscate=changed.obfuscate,
            updated_at=utcnow(),
        )
    )
    await _audit(tx, "domain_block.update", changed, by)
    if changed.severity != block.severity:
        await _lift(tx, block)
        await _impose(tx, changed)
    return changed


async def do_unblock_domain(tx: Tx, block_id: int, by: Staff = CONSOLE) -> DomainBlock:
    block = await domain_block(tx.conn, block_id)
    await tx.execute(delete(instance_domain_blocks).where(instance_domain_blocks.c.id == block_id))
    await _audit(tx, "domain_block.destroy", block, by)
    await _lift(tx, block)
    return block


async def _covered_accounts(tx: Tx, domain: str) -> list[int]:
    """The stored accounts of the servers a block on ``domain`` covers
    (``accounts.domain`` may carry a port, which blocks ignore)."""
    stored = await tx.execute(
        select(accounts.c.domain).where(accounts.c.domain.is_not(None)).distinct()
    )
    covered = [str(r.domain) for r in stored if domain in _covering(str(r.domain).split(":")[0])]
    if not covered:
        return []
    rows = await tx.execute(select(accounts.c.id).where(accounts.c.domain.in_(covered)))
    return [int(r.id) for r in rows]


async def _restamp(tx: Tx, ids: list[int]) -> None:
    everyone = set(ids)
    for account_id in ids:
        everyone.update(await neighbours(tx, account_id))
    await recount(tx, everyone)
    for account_id in ids:
        tx.emit(AccountChanged(account_id))


async def _impose(tx: Tx, block: DomainBlock) -> None:
    """The server's accounts stored before the block fall under it as those
    met after it do (roost/domain/federation/remote.py): suspended (hidden
    with their posts by the privacy policy) or silenced. Stamped with the
    block's own time, so that lifting it lifts what it imposed and no more."""
    column = {"suspend": accounts.c.suspended_at, "silence": accounts.c.silenced_at}.get(
        block.severity
    )
    if column is None:
        return
    ids = await _covered_accounts(tx, block.domain)
    if not ids:
        return
    await tx.execute(
        update(accounts)
        .where(accounts.c.id.in_(ids), column.is_(None))
        .values({column.name: block.created_at})
    )
    await _restamp(tx, ids)


async def _lift(tx: Tx, block: DomainBlock) -> None:
    """Undo what ``_impose`` did for this block (a suspension or silence of
    an account for another reason, at another time, stays)."""
    ids = await _covered_accounts(tx, block.domain)
    if not ids:
        return
    for column in (accounts.c.suspended_at, accounts.c.silenced_at):
        await tx.execute(
            update(accounts)
            .where(accounts.c.id.in_(ids), column == block.created_at)
            .values({column.name: None})
        )
    await _restamp(tx, ids)


async def _audit(tx: Tx, action: str, block: DomainBlock, by: Staff) -> None:
    # The private comment is staff's free text: kept out of the hashed details.
    await record(
        tx,
        action=action,
        permission=FEDERATION,
        by=by,
        subject_type="domain_block",
        subject_id=block.id,
        details={
            "domain": block.domain,
            "severity": block.severity,
            "reject_media": block.reject_media,
            "reject_reports": block.reject_reports,
            "obfuscate": block.obfuscate,
        },
        personal={"private_comment": block.private_comment, "public_comment": block.public_comment},
    )


async def domain_blocks(
    conn: AsyncConnection, page: Page
) -> tuple[list[DomainBlock], int | None, int | None]:
    """A page of blocks, newest first, with the ids bounding it."""
    query = page_of(select(instance_domain_blocks), instance_domain_blocks.c.id, page)
    found = newest_first([_block(r) for r in await conn.execute(query)], page)
    return found, (found[0].id if found else None), (found[-1].id if found else None)


async def public_domain_blocks(conn: AsyncConnection) -> list[DomainBlock]:
    """The blocks people are told about (silence and suspend, not noop),
    the harshest first, as Mastodon lists them."""
    rows = await conn.execute(
        select(instance_domain_blocks)
        .where(instance_domain_blocks.c.severity.in_(("silence", "suspend")))
        .order_by(instance_domain_blocks.c.domain)
    )
    found = [_block(r) for r in rows]
    return sorted(found, key=lambda b: -_RANK[b.severity])


# -- allows ---------------------------------------------------------------------


async def do_allow_domain(tx: Tx, domain: str, by: Staff = CONSOLE) -> DomainAllow:
    """Allow ``domain``; an existing allow is answered as it is (Mastodon)."""
    name = normalise(domain)
    row = (
        await tx.execute(
            select(instance_domain_allows).where(instance_domain_allows.c.domain == name)
        )
    ).first()
    if row is not None:
        return DomainAllow(int(row.id), row.domain, row.created_at)
    allow = DomainAllow(new_id(), name, utcnow())
    await tx.execute(
        instance_domain_allows.insert().values(
            id=allow.id, domain=name, created_at=allow.created_at
        )
    )
    await record(
        tx,
        action="domain_allow.create",
        permission=FEDERATION,
        by=by,
        subject_type="domain_allow",
        subject_id=allow.id,
        details={"domain": name},
    )
    return allow


async def domain_allow(conn: AsyncConnection, allow_id: int) -> DomainAllow:
    row = (
        await conn.execute(
            select(instance_domain_allows).where(instance_domain_allows.c.id == allow_id)
        )
    ).first()
    if row is None:
        raise NotFound()
    return DomainAllow(int(row.id), row.domain, row.created_at)


async def do_disallow_domain(tx: Tx, allow_id: int, by: Staff = CONSOLE) -> DomainAllow:
    allow = await domain_allow(tx.conn, allow_id)
    await tx.execute(delete(instance_domain_allows).where(instance_domain_allows.c.id == allow_id))
    await record(
        tx,
        action="domain_allow.destroy",
        permission=FEDERATION,
        by=by,
        subject_type="domain_allow",
        subject_id=allow.id,
        details={"domain": allow.domain},
    )
    return allow


async def domain_allows(
    conn: AsyncConnection, page: Page
) -> tuple[list[DomainAllow], int | None, int | None]:
    query = page_of(select(instance_domain_allows), instance_domain_allows.c.id, page)
    found = newest_first(
        [DomainAllow(int(r.id), r.domain, r.created_at) for r in await conn.execute(query)], page
    )
    return found, (found[0].id if found else None), (found[-1].id if found else None)
