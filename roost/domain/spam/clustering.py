"""Clustering one new post with the near duplicates posted before it.

``do_cluster_post`` runs in the job a post leaves (``ClusterPost``), after the
post is committed, so posting never waits for it. Everything it knows is in
the database: the post's signature and bands (``spam_signatures``,
``spam_bands``), the clusters (``spam_clusters``, ``spam_cluster_posts``) and
holds (``spam_holds``). So it works the same in one process (embedded, jobs
in the server) and across many stateless workers (scaled): a worker finds
the candidates of a post by its band keys, whichever process stored them.

The steps, in one transaction: the post's features and signature
(roost/domain/spam/minhash.py); the posts of the last
ROOST_SPAM_WINDOW_HOURS sharing a band key with it (the newest
``PER_BAND`` of each of its bands, ``MAX_CANDIDATES`` at most, newest first);
of those, the ones whose signatures
estimate a similarity of ROOST_SPAM_SIMILARITY or more; the post joins their
cluster, or starts one with them; clusters it links are merged into the
oldest. A cluster staff already decided (suspended, deleted) that grows again
opens again; one marked not spam stays so (and holds nothing).

Why the newest few per band and not the newest of all bands together: the
work of finding them is then bounded by the bands' count, not by the size
of a wave (a wave of identical posts shares all 32 bands with each new one:
every post of it in the window was read and grouped, and up to
``MAX_CANDIDATES`` signatures compared, for every new post). A wave's
newest posts are in its cluster already, so joining it needs only them; and
one common word pair can no longer fill every candidate place and hide a
wave from the posts it shares other bands with.

Idempotent: a post that already has a signature is left as it is (a job run
twice does nothing the second time). Two workers clustering two posts of one
wave at the same moment may not see each other's rows; the next post of the
wave links them (its bands match both), and a clash on a row key fails the
job, which runs again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, TextClause, bindparam, case, delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.config import Settings
from roost.db.engine import Tx
from roost.db.tables import (
    accounts,
    sign_up_networks,
    spam_bands,
    spam_cluster_posts,
    spam_clusters,
    spam_holds,
    spam_signatures,
    statuses,
    users,
)
from roost.db.types import UTCDateTime
from roost.domain.spam.minhash import Author, band_keys, features, signature, similarity
from roost.ids import new_id

MAX_CANDIDATES = 400
# The newest posts of each band that are candidates (see the docstring).
PER_BAND = 24
PRUNE_BATCH = 100


def _email_domain(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    return email.rsplit("@", 1)[1].strip().lower() or None


async def do_cluster_post(tx: Tx, settings: Settings, status_id: int) -> int | None:
    """Cluster one post; the id of the cluster it is in, or None (no near
    duplicate, a boost, or no such post any more)."""
    row = (
        await tx.execute(
            select(
                statuses.c.account_id,
                statuses.c.text,
                statuses.c.created_at,
                statuses.c.reblog_of_id,
                accounts.c.created_at.label("account_created_at"),
                users.c.email,
                sign_up_networks.c.network,
                spam_signatures.c.status_id.label("signed"),
            )
            .select_from(
                statuses.join(accounts, accounts.c.id == statuses.c.account_id)
                .outerjoin(users, users.c.account_id == accounts.c.id)
                .outerjoin(sign_up_networks, sign_up_networks.c.account_id == accounts.c.id)
                .outerjoin(spam_signatures, spam_signatures.c.status_id == statuses.c.id)
            )
            .where(statuses.c.id == status_id)
        )
    ).first()
    if row is None or row.reblog_of_id is not None:
        return None
    if row.signed is not None:
        return await cluster_of(tx.conn, status_id)
    posted_at: datetime = row.created_at
    new = posted_at - row.account_created_at < timedelta(days=settings.spam_new_account_days)
    author = Author(new=new, email_domain=_email_domain(row.email), network=row.network)
    sig = signature(features(row.text or "", author))
    keys = band_keys(sig)
    since = posted_at - timedelta(hours=settings.spam_window_hours)
    candidates = await _candidates(tx, keys)
    matches: dict[int, int] = {}
    if candidates:
        for other in await _signatures(tx, candidates, since):
            if similarity(sig, bytes(other.signature)) >= settings.spam_similarity:
                matches[int(other.status_id)] = int(other.account_id)
    await tx.execute(
        insert(spam_signatures).values(
            status_id=status_id, account_id=row.account_id, signature=sig, created_at=posted_at
        )
    )
    await tx.execute(
        insert(spam_bands),
        [{"band_key": k, "status_id": status_id, "created_at": posted_at} for k in set(keys)],
    )
    if not matches:
        return None
    matches[status_id] = int(row.account_id)
    cluster_id = await _join(tx, matches)
    if settings.spam_hold_cluster_size:
        await _hold(tx, settings, cluster_id)
    return cluster_id


# On PostgreSQL one array parameter: the same lookup written as IN with 32
# parameters cost 25 ms a post in SQLAlchemy against 1 ms this way (measured
# with bench/spam_clusters.py). Each band is read backwards along the primary
# key (band_key, status_id), ``PER_BAND`` rows at most. The window is checked
# on the signatures.
_CANDIDATES_PG = text(
    "SELECT DISTINCT band.status_id FROM unnest(CAST(:keys AS BIGINT[])) AS k(key) "
    "CROSS JOIN LATERAL (SELECT status_id FROM spam_bands WHERE band_key = k.key "
    "ORDER BY status_id DESC LIMIT :per_band) AS band "
    "ORDER BY band.status_id DESC LIMIT :limit"
)


def _candidates_sqlite(count: int) -> TextClause:
    """SQLite has no LATERAL: one arm per band key, each its newest rows."""
    arms = " UNION ".join(
        f"SELECT * FROM (SELECT status_id FROM spam_bands WHERE band_key = :k{i} "
        "ORDER BY status_id DESC LIMIT :per_band)"
        for i in range(count)
    )
    return text(f"SELECT status_id FROM ({arms}) ORDER BY status_id DESC LIMIT :limit")


_CANDIDATES_SQLITE: dict[int, TextClause] = {}


async def _candidates(tx: Tx, keys: list[int]) -> list[int]:
    """The newest ``PER_BAND`` posts of each band of ``keys``, newest first
    (``MAX_CANDIDATES`` at most)."""
    bounds = {"per_band": PER_BAND, "limit": MAX_CANDIDATES}
    if tx.conn.dialect.name == "postgresql":
        rows = await tx.execute(_CANDIDATES_PG, {"keys": keys, **bounds})
    else:
        unique = sorted(set(keys))
        statement = _CANDIDATES_SQLITE.get(len(unique))
        if statement is None:
            statement = _CANDIDATES_SQLITE[len(unique)] = _candidates_sqlite(len(unique))
        rows = await tx.execute(statement, {f"k{i}": key for i, key in enumerate(unique)} | bounds)
    return [int(r.status_id) for r in rows]


_SIGNATURES_PG = text(
    "SELECT status_id, account_id, signature FROM spam_signatures "
    "WHERE status_id = ANY(:ids) AND created_at >= :since"
).bindparams(bindparam("since", type_=UTCDateTime()))


async def _signatures(tx: Tx, ids: list[int], since: datetime) -> Sequence[Row[Any]]:
    """The stored signatures of ``ids`` posted since ``since``."""
    if tx.conn.dialect.name == "postgresql":
        return (await tx.execute(_SIGNATURES_PG, {"ids": ids, "since": since})).all()
    columns = spam_signatures.c
    return (
        await tx.execute(
            select(columns.status_id, columns.account_id, columns.signature).where(
                columns.status_id.in_(ids), columns.created_at >= since
            )
        )
    ).all()


async def cluster_of(conn: AsyncConnection, status_id: int) -> int | None:
    found = (
        await conn.execute(
            select(spam_cluster_posts.c.cluster_id).where(
                spam_cluster_posts.c.status_id == status_id
            )
        )
    ).scalar_one_or_none()
    return None if found is None else int(found)


async def _join(tx: Tx, members: dict[int, int]) -> int:
    """Put ``members`` (post id: author id) in one cluster: theirs, the oldest
    of theirs when they are in several (the others merged into it), or a new one."""
    now = utcnow()
    # Which of them are clustered, and where: one read for both questions.
    clustered = {
        int(r.status_id): int(r.cluster_id)
        for r in await tx.execute(
            select(spam_cluster_posts.c.status_id, spam_cluster_posts.c.cluster_id).where(
                spam_cluster_posts.c.status_id.in_(list(members))
            )
        )
    }
    existing = sorted(set(clustered.values()))
    if not existing:
        cluster_id = new_id()
        await tx.execute(
            insert(spam_clusters).values(
                id=cluster_id, state="open", created_at=now, updated_at=now
            )
        )
    else:
        cluster_id, merged = existing[0], existing[1:]
        if merged:
            await tx.execute(
                update(spam_cluster_posts)
                .where(spam_cluster_posts.c.cluster_id.in_(merged))
                .values(cluster_id=cluster_id)
            )
            await tx.execute(
                update(spam_holds)
                .where(spam_holds.c.cluster_id.in_(merged))
                .values(cluster_id=cluster_id)
            )
            await tx.execute(delete(spam_clusters).where(spam_clusters.c.id.in_(merged)))
        # A wave staff dealt with that grows again is shown to them again.
        reopened = case(
            (spam_clusters.c.state.in_(("suspended", "deleted")), "open"),
            else_=spam_clusters.c.state,
        )
        await tx.execute(
            update(spam_clusters)
            .where(spam_clusters.c.id == cluster_id)
            .values(state=reopened, updated_at=now)
        )
    fresh = [
        {"status_id": sid, "cluster_id": cluster_id, "account_id": aid, "added_at": now}
        for sid, aid in members.items()
        if sid not in clustered
    ]
    if fresh:
        await tx.execute(insert(spam_cluster_posts), fresh)
    return cluster_id


async def _hold(tx: Tx, settings: Settings, cluster_id: int) -> None:
    """Hold the cluster's posts by young accounts once it is large enough."""
    state = (
        await tx.execute(select(spam_clusters.c.state).where(spam_clusters.c.id == cluster_id))
    ).scalar_one()
    if state == "not_spam":
        return
    size = (
        await tx.execute(
            select(func.count())
            .select_from(spam_cluster_posts)
            .where(spam_cluster_posts.c.cluster_id == cluster_id)
        )
    ).scalar_one()
    if size < settings.spam_hold_cluster_size:
        return
    now = utcnow()
    young_since = now - timedelta(days=settings.spam_hold_account_days)
    held = select(spam_holds.c.status_id).where(
        spam_holds.c.status_id == spam_cluster_posts.c.status_id
    )
    rows = await tx.execute(
        select(spam_cluster_posts.c.status_id, spam_cluster_posts.c.account_id)
        .select_from(
            spam_cluster_posts.join(accounts, accounts.c.id == spam_cluster_posts.c.account_id)
        )
        .where(
            spam_cluster_posts.c.cluster_id == cluster_id,
            accounts.c.created_at >= young_since,
            ~held.exists(),
        )
    )
    fresh = [
        {"status_id": r.status_id, "account_id": r.account_id, "cluster_id": cluster_id,
         "held_at": now}
        for r in rows
    ]  # fmt: skip
    if fresh:
        await tx.execute(insert(spam_holds), fresh)


async def do_prune(tx: Tx, settings: Settings) -> int:
    """Forget the signatures and bands of posts older than the window, a
    batch at a time (each clustering job prunes one batch); how many."""
    before = utcnow() - timedelta(hours=settings.spam_window_hours)
    old = [
        int(r.status_id)
        for r in await tx.execute(
            select(spam_signatures.c.status_id)
            .where(spam_signatures.c.created_at < before)
            .order_by(spam_signatures.c.created_at)
            .limit(PRUNE_BATCH)
        )
    ]
    if old:
        await tx.execute(delete(spam_bands).where(spam_bands.c.status_id.in_(old)))
        await tx.execute(delete(spam_signatures).where(spam_signatures.c.status_id.in_(old)))
    return len(old)


async def do_record_sign_up_network(tx: Tx, account_id: int, network: str | None) -> None:
    """Remember the network an account signed up from (nothing when unknown)."""
    if network is None:
        return
    await tx.execute(
        insert(sign_up_networks).values(account_id=account_id, network=network, created_at=utcnow())
    )
