"""IP blocks: address ranges held back at sign-up or refused outright
(Mastodon's IpBlock).

Severities, weakest first:

- ``sign_up_requires_approval``: a sign-up from the range makes an account
  that waits for a moderator, even with an invite (as in Mastodon);
- ``sign_up_block``: sign-ups from the range are refused (403);
- ``no_access``: every request from the range is refused (403), by the
  middleware in roost/api/ip_access.py, which asks ``AccessList``.

A block may expire (``expires_at``); an expired block is ignored everywhere
and left out of the lists. The address is the peer's, or the client a
trusted proxy names (roost/api/auth.py: client_address).
"""

from __future__ import annotations

import bisect
import ipaddress
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import ip_blocks
from roost.domain.audit.chain import CONSOLE, Staff, record
from roost.domain.pagination import newest_first, page_of
from roost.domain.roles.permissions import Permission, key
from roost.domain.types import Page
from roost.errors import NotFound, RuleBroken
from roost.ids import new_id

if TYPE_CHECKING:
    from roost.db.engine import Database

SEVERITIES = ("sign_up_requires_approval", "sign_up_block", "no_access")
_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
BLOCKS = key(Permission.MANAGE_BLOCKS)
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class IpBlock:
    id: int
    ip: str  # CIDR: 192.0.2.0/24, 2001:db8::1/128
    severity: str
    comment: str
    created_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True)
class IpBlockChange:
    """Fields to set; None leaves one as it is. ``expires_in`` in seconds
    from now (0 or less: never expires)."""

    ip: str | None = None
    severity: str | None = None
    comment: str | None = None
    expires_in: int | None = None


def network(text: str) -> Network:
    """``192.0.2.7`` or ``192.0.2.0/24`` as a network (host bits dropped);
    RuleBroken when it is neither an address nor a range."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise RuleBroken(f"Ip {text.strip()!r} is not an IP address or a CIDR range") from None


def _row(r: object) -> IpBlock:
    m = r._mapping  # type: ignore[attr-defined]
    return IpBlock(
        int(m["id"]), m["ip"], m["severity"], m["comment"], m["created_at"], m["expires_at"]
    )


def _live(now: datetime) -> ColumnElement[bool]:
    return or_(ip_blocks.c.expires_at.is_(None), ip_blocks.c.expires_at > now)


def _expiry(expires_in: int | None) -> datetime | None:
    if expires_in is None or expires_in <= 0:
        return None
    return utcnow() + timedelta(seconds=min(expires_in, 100 * 365 * 86400))


def _check(severity: str) -> None:
    if severity not in SEVERITIES:
        raise RuleBroken(f"Severity must be one of {', '.join(SEVERITIES)}")


async def _taken(tx: Tx, ip: str, other_than: int | None = None) -> None:
    query = select(ip_blocks.c.id).where(ip_blocks.c.ip == ip)
    if other_than is not None:
        query = query.where(ip_blocks.c.id != other_than)
    if (await tx.execute(query)).first() is not None:
        raise RuleBroken("Ip has already been taken")


async def do_block_ip(tx: Tx, change: IpBlockChange, by: Staff = CONSOLE) -> IpBlock:
    if not change.ip:
        raise RuleBroken("Ip can't be blank")
    if not change.severity:
        raise RuleBroken("Severity can't be blank")
    _check(change.severity)
    ip = str(network(change.ip))
    # An expired block on the same range gives way to the new one.
    await tx.execute(
        delete(ip_blocks).where(ip_blocks.c.ip == ip, ip_blocks.c.expires_at <= utcnow())
    )
    await _taken(tx, ip)
    now = utcnow()
    comment = (change.comment or "").strip()
    block = IpBlock(new_id(), ip, change.severity, comment, now, _expiry(change.expires_in))
    await tx.execute(
        ip_blocks.insert().values(
            id=block.id,
            ip=ip,
            severity=block.severity,
            comment=block.comment,
            created_at=now,
            updated_at=now,
            expires_at=block.expires_at,
        )
    )
    await _audit(tx, "ip_block.create", block, by)
    return block


async def ip_block(conn: AsyncConnection, block_id: int) -> IpBlock:
    row = (
        await conn.execute(select(ip_blocks).where(ip_blocks.c.id == block_id, _live(utcnow())))
    ).first()
    if row is None:
        raise NotFound()
    return _row(row)


async def do_change_ip_block(
    tx: Tx, block_id: int, change: IpBlockChange, by: Staff = CONSOLE
) -> IpBlock:
    block = await ip_block(tx.conn, block_id)
    ip = block.ip if not change.ip else str(network(change.ip))
    if ip != block.ip:
        await _taken(tx, ip, other_than=block_id)
    severity = change.severity or block.severity
    _check(severity)
    expires_at = block.expires_at if change.expires_in is None else _expiry(change.expires_in)
    comment = block.comment if change.comment is None else change.comment.strip()
    await tx.execute(
        update(ip_blocks)
        .where(ip_blocks.c.id == block_id)
        .values(
            ip=ip, severity=severity, comment=comment, expires_at=expires_at, updated_at=utcnow()
        )
    )
    changed = IpBlock(block.id, ip, severity, comment, block.created_at, expires_at)
    await _audit(tx, "ip_block.update", changed, by)
    return changed


async def do_unblock_ip(tx: Tx, block_id: int, by: Staff = CONSOLE) -> IpBlock:
    block = await ip_block(tx.conn, block_id)
    await tx.execute(delete(ip_blocks).where(ip_blocks.c.id == block_id))
    await _audit(tx, "ip_block.destroy", block, by)
    return block


async def _audit(tx: Tx, action: str, block: IpBlock, by: Staff) -> None:
    await record(
        tx,
        action=action,
        permission=BLOCKS,
        by=by,
        subject_type="ip_block",
        subject_id=block.id,
        # One address can be a person's: the range goes with the free text,
        # apart from the hashed details.
        details={
            "severity": block.severity,
            "expires_at": block.expires_at.isoformat() if block.expires_at else None,
        },
        personal={"ip": block.ip, "comment": block.comment},
    )


async def ip_block_list(
    conn: AsyncConnection, page: Page
) -> tuple[list[IpBlock], int | None, int | None]:
    query = page_of(select(ip_blocks).where(_live(utcnow())), ip_blocks.c.id, page)
    found = newest_first([_row(r) for r in await conn.execute(query)], page)
    return found, (found[0].id if found else None), (found[-1].id if found else None)


async def _live_blocks(conn: AsyncConnection) -> list[IpBlock]:
    rows = await conn.execute(select(ip_blocks).where(_live(utcnow())))
    return [_row(r) for r in rows]


async def severity_for(conn: AsyncConnection, address: str) -> str | None:
    """The harshest live block covering ``address`` (None: none does, or it
    is no IP address, e.g. a test client's "testclient")."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    found = [
        b.severity
        for b in await _live_blocks(conn)
        if ip.version == network(b.ip).version and ip in network(b.ip)
    ]
    return max(found, key=_RANK.__getitem__) if found else None


class AccessList:
    """The ``no_access`` ranges, kept in the process and read again at most
    every ``ttl_s`` seconds, when the soonest of them expires, and at once
    after a change made through this process (``forget``, called once the
    change is committed); the check per request costs no database query.
    Another process's change (the CLI, another server) counts within
    ``ttl_s``.

    The ranges are held as merged integer intervals per IP version, searched
    by bisection, and the answer for each address seen is remembered until
    the next reload (at most ``_REMEMBERED`` addresses), so that a request
    from a known address costs one dictionary lookup."""

    _REMEMBERED = 10_000

    def __init__(self, ttl_s: float = 10.0) -> None:
        self.ttl_s = ttl_s
        self._starts: dict[int, list[int]] = {}
        self._ends: dict[int, list[int]] = {}
        self._seen: dict[str, bool] = {}
        self._loaded_at = -float("inf")
        self._expires: float = float("inf")

    def forget(self) -> None:
        self._loaded_at = -float("inf")

    def stale(self) -> bool:
        now = time.monotonic()
        return now - self._loaded_at > self.ttl_s or now >= self._expires

    def hold(self, networks: list[Network], expires_in_s: float | None = None) -> None:
        """Keep ``networks`` as the refused ranges, fresh from now."""
        self._loaded_at = time.monotonic()
        spans: dict[int, list[tuple[int, int]]] = {}
        for n in networks:
            spans.setdefault(n.version, []).append(
                (int(n.network_address), int(n.broadcast_address))
            )
        self._starts, self._ends = {}, {}
        for version, found in spans.items():
            merged: list[tuple[int, int]] = []
            for start, end in sorted(found):
                if merged and start <= merged[-1][1] + 1:
                    merged[-1] = (merged[-1][0], max(merged[-1][1], end))
                else:
                    merged.append((start, end))
            self._starts[version] = [a for a, _ in merged]
            self._ends[version] = [b for _, b in merged]
        self._seen = {}
        self._expires = self._loaded_at + expires_in_s if expires_in_s is not None else float("inf")

    async def load(self, db: Database) -> None:
        self._loaded_at = time.monotonic()  # one reload at a time
        async with db.read() as conn:
            blocks = [b for b in await _live_blocks(conn) if b.severity == "no_access"]
        ends = [b.expires_at for b in blocks if b.expires_at is not None]
        soonest = (min(ends) - utcnow()).total_seconds() if ends else None
        self.hold([network(b.ip) for b in blocks], soonest)

    def refuses(self, address: str) -> bool:
        if not self._starts:
            return False
        known = self._seen.get(address)
        if known is not None:
            return known
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            refused = False
        else:
            starts = self._starts.get(ip.version, [])
            value = int(ip)
            i = bisect.bisect_right(starts, value) - 1
            refused = i >= 0 and value <= self._ends[ip.version][i]
        if len(self._seen) >= self._REMEMBERED:
            self._seen.clear()
        self._seen[address] = refused
        return refused
