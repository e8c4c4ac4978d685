"""Probing the servers marked unavailable, so that one that is back is
known to be back without waiting for it to post to the inbox.

A host marked unavailable (roost/domain/federation/hosts.py) is probed by
the periodic upkeep (roost/domain/federation/upkeep.py): its NodeInfo
discovery document (``/.well-known/nodeinfo``, which every fediverse server
serves unsigned) is asked for through the one outbound client (its address
guard and time limit). Any HTTP answer but 5xx, 408 and 429 means the server
is up: the host is marked available (its failures cleared, as a delivery it
takes would), and the deliveries still queued for it, waiting out its
backoff, are made due at once. No answer counts a probe, and the next one
waits twice as long as the last (a minute, doubling, a day at most), so a
server gone for good costs one request a day. A host not federated with
(suspended; in the allow-list mode, not allowed) is not probed. At most
``PROBES_PER_RUN`` hosts, the longest due first, are probed at once per run.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import or_, select, update

from roost.clock import utcnow
from roost.config import Settings
from roost.db.engine import Database
from roost.db.tables import federation_hosts, jobs
from roost.domain.federation import hosts
from roost.domain.federation.remote import federates_with
from roost.net.http import OutboundRefused, fetch

log = logging.getLogger("roost.federation")

FIRST_PROBE_S = 60.0
MAX_PROBE_S = 86_400.0
PROBES_PER_RUN = 16
MAX_PROBE_BYTES = 64 * 1024


def spacing(probes: int) -> timedelta:
    """The wait after ``probes`` unanswered probes."""
    return timedelta(seconds=min(MAX_PROBE_S, FIRST_PROBE_S * 2 ** min(probes, 20)))


async def due(db: Database) -> list[str]:
    """The unavailable hosts whose next probe is due, the longest due first."""
    h = federation_hosts.c
    async with db.read() as conn:
        rows = await conn.execute(
            select(h.host)
            .where(
                h.unavailable_at.is_not(None),
                or_(h.next_probe_at.is_(None), h.next_probe_at <= utcnow()),
            )
            .order_by(h.next_probe_at.is_not(None), h.next_probe_at, h.host)
            .limit(PROBES_PER_RUN)
        )
        return [str(r.host) for r in rows]


async def answers(settings: Settings, host: str) -> bool:
    """Whether the server at ``host`` answers an HTTP request."""
    scheme = "http" if settings.federation_allow_insecure else "https"
    try:
        got = await fetch(
            settings,
            f"{scheme}://{host}/.well-known/nodeinfo",
            accept="application/json",
            max_bytes=MAX_PROBE_BYTES,
            allow_private=settings.federation_allow_insecure,
        )
    except (OutboundRefused, ValueError) as error:
        log.info("probe of %s: no answer (%s)", host, error)
        return False
    return got.status < 500 and got.status not in (408, 429)


async def probe(db: Database, settings: Settings, host: str) -> bool:
    """Probe one unavailable host; True when it answered and is available again."""
    if not await federates_with(db, settings, host):
        return False
    if await answers(settings, host):
        await revived(db, host)
        log.info("probe of %s: it answers again, marked available", host)
        return True
    h = federation_hosts.c
    async with db.write() as tx:
        row = (await tx.execute(select(h.probes).where(h.host == host))).first()
        probes = int(row.probes) if row is not None else 0
        await tx.execute(
            update(federation_hosts)
            .where(h.host == host)
            .values(probes=probes + 1, next_probe_at=utcnow() + spacing(probes))
        )
    return False


async def revived(db: Database, host: str) -> None:
    """The host answers: available again, and its queued deliveries due now."""
    now = utcnow()
    async with db.write() as tx:
        await hosts.seen_alive(tx, host)
        await tx.execute(
            update(federation_hosts)
            .where(federation_hosts.c.host == host)
            .values(probes=0, next_probe_at=None, last_success_at=now)
        )
        waiting = await tx.execute(
            select(jobs.c.id, jobs.c.payload).where(
                jobs.c.kind.in_(hosts.DELIVERY_KINDS),
                jobs.c.state == "queued",
                jobs.c.run_at > now,
            )
        )
        ids = [
            int(r.id)
            for r in waiting
            if isinstance(r.payload, dict)
            and hosts.host_of(str(r.payload.get("inbox_url", ""))) == host
        ]
        if ids:
            await tx.execute(update(jobs).where(jobs.c.id.in_(ids)).values(run_at=now))


async def probe_due(db: Database, settings: Settings) -> int:
    """Probe the due hosts at once; how many are available again."""
    found = await due(db)
    if not found:
        return 0
    back = await asyncio.gather(*(probe(db, settings, host) for host in found))
    return sum(back)
