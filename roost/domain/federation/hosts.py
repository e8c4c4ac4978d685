"""Each other server's delivery state, kept in the database so that every
worker (and every process) shares it (``federation_hosts``).

A delivery (roost/domain/federation/delivery.py, farewell.py) asks ``gate``
first:

  - a host marked unavailable: the delivery is dropped, and counted
    (``dropped``), not retried;
  - a host that failed, before its ``next_attempt_at``: the delivery waits
    until then without a connection attempt, so a dead server costs one
    timeout per backoff step (2 s doubling, an hour at most), not one per
    delivery, whichever worker holds it;
  - otherwise it is sent.

``failed`` counts a failure: the first failure of a run is remembered, and a
host that has failed for ``ROOST_FEDERATION_UNAVAILABLE_AFTER_DAYS`` (7, as
Mastodon) straight is marked unavailable. ``succeeded`` clears it all and
notes the time; so does ``seen_alive``, called when the host's server posts
a verified activity to the inbox, and so does a probe it answers
(roost/domain/federation/probes.py: unavailable hosts are probed
periodically, at doubling intervals). ``host_states`` is what `roost federation
status` shows: each known host, its state and its queued deliveries.
``known_scheme`` and ``remember_scheme`` keep which signature scheme the
host took (roost/domain/federation/signing.py, the double-knock).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.config import Settings
from roost.db.engine import Database, Tx
from roost.db.tables import accounts, federation_hosts
from roost.domain.federation._upsert import insert_absent
from roost.jobs.queue import queued_payloads

MAX_HOST_BACKOFF_S = 3600.0
DELIVERY_KINDS = ("federation.deliver", "federation.farewell")
# A success is written at most this often per host (a busy host's every
# delivery would otherwise be a write).
SUCCESS_NOTED_EVERY = timedelta(minutes=1)


def host_of(url: str) -> str:
    return urlsplit(url).netloc.lower()[:255]


class HostState(StrEnum):
    OK = "ok"
    BACKING_OFF = "backing off"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class Gate:
    """What a delivery to the host does now: ``drop`` it, wait ``wait_s``, or go."""

    drop: bool
    wait_s: float
    # The last success as read (None: never): ``succeeded`` skips the write
    # when it was noted a moment ago and nothing failed since.
    last_success_at: datetime | None
    failing: bool


async def gate(db: Database, host: str) -> Gate:
    async with db.read() as conn:
        row = (
            await conn.execute(select(federation_hosts).where(federation_hosts.c.host == host))
        ).first()
    if row is None:
        return Gate(drop=False, wait_s=0.0, last_success_at=None, failing=False)
    if row.unavailable_at is not None:
        return Gate(drop=True, wait_s=0.0, last_success_at=row.last_success_at, failing=True)
    wait = 0.0
    if row.failures and row.next_attempt_at is not None:
        wait = max(0.0, (row.next_attempt_at - utcnow()).total_seconds())
    return Gate(
        drop=False, wait_s=wait, last_success_at=row.last_success_at, failing=bool(row.failures)
    )


async def _ensure(tx: Tx, host: str) -> None:
    await tx.execute(
        insert_absent(tx, federation_hosts, federation_hosts.c.host).values(
            host=host, failures=0, dropped=0
        )
    )


async def failed(db: Database, settings: Settings, host: str) -> bool:
    """Count a failed delivery to ``host``; True when the host is (now) unavailable."""
    now = utcnow()
    h = federation_hosts.c
    async with db.write() as tx:
        await _ensure(tx, host)
        await tx.execute(
            update(federation_hosts)
            .where(h.host == host)
            .values(
                failures=h.failures + 1,
                first_failure_at=func.coalesce(h.first_failure_at, now),
            )
        )
        row = (await tx.execute(select(federation_hosts).where(h.host == host))).one()
        pause = min(MAX_HOST_BACKOFF_S, 2.0 * 2 ** min(row.failures - 1, 20))
        values: dict[str, object] = {"next_attempt_at": now + timedelta(seconds=pause)}
        limit = timedelta(days=settings.federation_unavailable_after_days)
        unavailable = row.unavailable_at is not None or now - row.first_failure_at >= limit
        if unavailable and row.unavailable_at is None:
            values["unavailable_at"] = now
        await tx.execute(update(federation_hosts).where(h.host == host).values(**values))
    return unavailable


async def succeeded(db: Database, host: str, seen: Gate | None = None) -> None:
    """A delivery to ``host`` was taken (or refused for good: it answered)."""
    now = utcnow()
    if (
        seen is not None
        and not seen.failing
        and seen.last_success_at is not None
        and now - seen.last_success_at < SUCCESS_NOTED_EVERY
    ):
        return
    async with db.write() as tx:
        await _ensure(tx, host)
        await tx.execute(
            update(federation_hosts)
            .where(federation_hosts.c.host == host)
            .values(
                failures=0,
                first_failure_at=None,
                next_attempt_at=None,
                unavailable_at=None,
                dropped=0,
                last_success_at=now,
                probes=0,
                next_probe_at=None,
            )
        )


async def dropped(db: Database, host: str) -> None:
    """A delivery to an unavailable host was dropped: counted."""
    async with db.write() as tx:
        await tx.execute(
            update(federation_hosts)
            .where(federation_hosts.c.host == host)
            .values(dropped=federation_hosts.c.dropped + 1)
        )


async def seen_alive(tx: Tx, host: str) -> None:
    """The host's server posted a verified activity: it is up. Clears a
    failing or unavailable host (nothing is written for a healthy one)."""
    h = federation_hosts.c
    await tx.execute(
        update(federation_hosts)
        .where(h.host == host, or_(h.failures > 0, h.unavailable_at.is_not(None)))
        .values(
            failures=0,
            first_failure_at=None,
            next_attempt_at=None,
            unavailable_at=None,
            dropped=0,
            probes=0,
            next_probe_at=None,
        )
    )


@dataclass(frozen=True)
class KnownScheme:
    """The signature scheme a host last took, and when that was learnt."""

    scheme: str
    learnt_at: datetime


async def known_scheme(db: Database, host: str) -> KnownScheme | None:
    """The scheme ``host`` last took (signing.py's double-knock), if any."""
    h = federation_hosts.c
    async with db.read() as conn:
        row = (
            await conn.execute(
                select(h.signature_scheme, h.signature_scheme_at).where(h.host == host)
            )
        ).first()
    if row is None or row.signature_scheme is None or row.signature_scheme_at is None:
        return None
    return KnownScheme(str(row.signature_scheme), row.signature_scheme_at)


async def remember_scheme(db: Database, host: str, scheme: str) -> None:
    """``host`` took a request signed with ``scheme``: the next ones use it."""
    async with db.write() as tx:
        await _ensure(tx, host)
        await tx.execute(
            update(federation_hosts)
            .where(federation_hosts.c.host == host)
            .values(signature_scheme=scheme, signature_scheme_at=utcnow())
        )


@dataclass(frozen=True)
class HostReport:
    host: str
    state: HostState
    queued: int  # delivery jobs waiting for it
    failures: int
    first_failure_at: datetime | None
    next_attempt_at: datetime | None
    last_success_at: datetime | None
    unavailable_at: datetime | None
    dropped: int
    # The signature scheme it took when last double-knocked (signing.py).
    signature_scheme: str | None = None


async def _queued_by_host(conn: AsyncConnection) -> dict[str, int]:
    counts: dict[str, int] = {}
    for payload in await queued_payloads(conn, DELIVERY_KINDS):
        inbox = payload.get("inbox_url")
        if isinstance(inbox, str):
            host = host_of(inbox)
            counts[host] = counts.get(host, 0) + 1
    return counts


async def host_states(conn: AsyncConnection, host: str | None = None) -> list[HostReport]:
    """Every known host (one with delivery state, queued deliveries or
    accounts here), by name; only ``host`` when given."""
    now = utcnow()
    queued = await _queued_by_host(conn)
    stored = {str(r.host): r for r in await conn.execute(select(federation_hosts))}
    known = set(stored) | set(queued)
    domains = await conn.execute(
        select(func.lower(accounts.c.domain)).where(accounts.c.domain.is_not(None)).distinct()
    )
    known |= {str(d) for (d,) in domains if d}
    if host is not None:
        host = host.lower()
        known = {host} & known
    reports = []
    for name in sorted(known):
        row = stored.get(name)
        if row is None:
            reports.append(
                HostReport(name, HostState.OK, queued.get(name, 0), 0, None, None, None, None, 0)
            )
            continue
        if row.unavailable_at is not None:
            state = HostState.UNAVAILABLE
        elif row.failures:
            state = HostState.BACKING_OFF
        else:
            state = HostState.OK
        reports.append(
            HostReport(
                host=name,
                state=state,
                queued=queued.get(name, 0),
                failures=int(row.failures),
                first_failure_at=row.first_failure_at,
                next_attempt_at=row.next_attempt_at
                if row.next_attempt_at is not None and row.next_attempt_at > now
                else None,
                last_success_at=row.last_success_at,
                unavailable_at=row.unavailable_at,
                dropped=int(row.dropped),
                signature_scheme=row.signature_scheme,
            )
        )
    return reports
