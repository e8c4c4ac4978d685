"""What staff see of spam clusters and the one action they take on a whole one.

``clusters`` and ``cluster`` read; ``act`` suspends the cluster's accounts,
deletes its posts, or marks it not spam, in the caller's transaction, with one
audit entry for the cluster (and the suspensions' own entries). Each checks
the actor's role in that transaction: ``manage_reports`` for all of it,
``manage_users`` too for suspending. The operator at the console
(``account_id`` None) may do all.

Post texts are read through the privacy policy as staff: staff see a
cluster's public and unlisted posts (held or not, suspended or not); the
followers-only and direct ones are counted, their words not shown.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import accounts, spam_cluster_posts, spam_clusters, spam_holds, statuses
from roost.domain import privacy
from roost.domain.accounts.moderation import do_suspend_account
from roost.domain.audit.chain import Staff, record
from roost.domain.roles.permissions import Permission, grants, is_staff, key
from roost.domain.roles.queries import permissions_of, role_of
from roost.domain.spam.minhash import link_domains
from roost.domain.statuses.actions import do_delete_status
from roost.domain.types import Viewer
from roost.errors import Forbidden, NotFound, RuleBroken

PERMISSION = Permission.MANAGE_REPORTS
SUBJECT = "spam_cluster"
EXCERPT = 200


class Decision(StrEnum):
    SUSPEND = "suspend"
    DELETE = "delete"
    NOT_SPAM = "not_spam"


_STATE_AFTER = {
    Decision.SUSPEND: "suspended",
    Decision.DELETE: "deleted",
    Decision.NOT_SPAM: "not_spam",
}


@dataclass(frozen=True)
class ClusterPostView:
    status_id: int
    account_id: int
    username: str
    created_at: datetime
    held: bool
    # None: not public or unlisted (its words are not shown to staff).
    text: str | None


@dataclass(frozen=True)
class ClusterSummary:
    id: int
    state: str
    size: int
    accounts: int
    new_accounts: int
    held: int
    first_at: datetime | None
    last_at: datetime | None
    domains: tuple[str, ...]
    sample: str | None


@dataclass(frozen=True)
class ClusterDetail:
    summary: ClusterSummary
    posts: tuple[ClusterPostView, ...]


async def check_actor(conn: AsyncConnection, actor: Staff, needed: Permission = PERMISSION) -> None:
    if actor.account_id is None:
        return
    held = await role_of(conn, actor.account_id)
    if held is None or not grants(held.permissions, needed):
        raise Forbidden(f"spam clusters need the permission {key(needed)}")


def _staff_viewer(actor: Staff) -> Viewer:
    return Viewer(account_id=actor.account_id, is_admin=True)


async def _posts(
    conn: AsyncConnection, actor: Staff, cluster_ids: list[int]
) -> dict[int, list[ClusterPostView]]:
    rows = (
        await conn.execute(
            select(
                spam_cluster_posts.c.cluster_id,
                spam_cluster_posts.c.status_id,
                spam_cluster_posts.c.account_id,
                accounts.c.username,
                statuses.c.created_at,
                spam_holds.c.status_id.label("held"),
            )
            .select_from(
                spam_cluster_posts.join(statuses, statuses.c.id == spam_cluster_posts.c.status_id)
                .join(accounts, accounts.c.id == spam_cluster_posts.c.account_id)
                .outerjoin(spam_holds, spam_holds.c.status_id == spam_cluster_posts.c.status_id)
            )
            .where(spam_cluster_posts.c.cluster_id.in_(cluster_ids))
            .order_by(spam_cluster_posts.c.status_id)
        )
    ).all()
    readable = await privacy.visible_statuses(
        conn,
        _staff_viewer(actor),
        select(statuses.c.id, statuses.c.text).where(
            statuses.c.id.in_([r.status_id for r in rows]),
            privacy.listed(statuses.c.visibility),
        ),
    )
    texts = {int(r.value["id"]): str(r.value["text"] or "") for r in readable}
    found: dict[int, list[ClusterPostView]] = {cid: [] for cid in cluster_ids}
    for r in rows:
        found[int(r.cluster_id)].append(
            ClusterPostView(
                status_id=int(r.status_id),
                account_id=int(r.account_id),
                username=str(r.username),
                created_at=r.created_at,
                held=r.held is not None,
                text=texts.get(int(r.status_id)),
            )
        )
    return found


async def _account_ages(conn: AsyncConnection, account_ids: set[int]) -> dict[int, datetime]:
    if not account_ids:
        return {}
    rows = await conn.execute(
        select(accounts.c.id, accounts.c.created_at).where(accounts.c.id.in_(list(account_ids)))
    )
    return {int(r.id): r.created_at for r in rows}


def _summary(
    row: object, posts: list[ClusterPostView], created: dict[int, datetime], new_since: datetime
) -> ClusterSummary:
    authors = {p.account_id for p in posts}
    domains = Counter(d for p in posts if p.text for d in set(link_domains(p.text)))
    sample = next((p.text for p in posts if p.text), None)
    return ClusterSummary(
        id=int(row.id),  # type: ignore[attr-defined]
        state=str(row.state),  # type: ignore[attr-defined]
        size=len(posts),
        accounts=len(authors),
        new_accounts=sum(1 for a in authors if a in created and created[a] >= new_since),
        held=sum(1 for p in posts if p.held),
        first_at=min((p.created_at for p in posts), default=None),
        last_at=max((p.created_at for p in posts), default=None),
        domains=tuple(d for d, _ in domains.most_common(3)),
        sample=None if sample is None else sample[:EXCERPT],
    )


async def clusters(
    conn: AsyncConnection,
    actor: Staff,
    *,
    min_size: int,
    new_account_days: int,
    every_state: bool = False,
    limit: int = 50,
) -> list[ClusterSummary]:
    """Open clusters of at least ``min_size`` posts, largest first; with
    ``every_state``, decided ones too (whatever their size)."""
    await check_actor(conn, actor)
    size = func.count(spam_cluster_posts.c.status_id)
    query = (
        select(spam_clusters.c.id, spam_clusters.c.state, size.label("size"))
        .select_from(
            spam_clusters.outerjoin(
                spam_cluster_posts, spam_cluster_posts.c.cluster_id == spam_clusters.c.id
            )
        )
        .group_by(spam_clusters.c.id, spam_clusters.c.state)
        .order_by(size.desc(), spam_clusters.c.id.desc())
        .limit(limit)
    )
    if not every_state:
        query = query.where(spam_clusters.c.state == "open").having(size >= min_size)
    rows = (await conn.execute(query)).all()
    posts = await _posts(conn, actor, [int(r.id) for r in rows])
    created = await _account_ages(conn, {p.account_id for ps in posts.values() for p in ps})
    new_since = utcnow() - timedelta(days=new_account_days)
    return [_summary(r, posts[int(r.id)], created, new_since) for r in rows]


async def cluster(
    conn: AsyncConnection, actor: Staff, cluster_id: int, *, new_account_days: int
) -> ClusterDetail:
    await check_actor(conn, actor)
    row = (
        await conn.execute(
            select(spam_clusters.c.id, spam_clusters.c.state).where(
                spam_clusters.c.id == cluster_id
            )
        )
    ).first()
    if row is None:
        raise NotFound(f"no spam cluster {cluster_id}")
    posts = (await _posts(conn, actor, [cluster_id]))[cluster_id]
    created = await _account_ages(conn, {p.account_id for p in posts})
    new_since = utcnow() - timedelta(days=new_account_days)
    return ClusterDetail(_summary(row, posts, created, new_since), tuple(posts))


async def act(tx: Tx, actor: Staff, cluster_id: int, decision: Decision) -> int:
    """Apply ``decision`` to the whole cluster; how many accounts were
    suspended or posts deleted or released."""
    await check_actor(tx.conn, actor)
    if decision == Decision.SUSPEND:
        await check_actor(tx.conn, actor, Permission.MANAGE_USERS)
    query = select(spam_clusters.c.state).where(spam_clusters.c.id == cluster_id)
    if tx.conn.dialect.name == "postgresql":
        query = query.with_for_update()
    state = (await tx.execute(query)).scalar_one_or_none()
    if state is None:
        raise NotFound(f"no spam cluster {cluster_id}")
    members = (
        await tx.execute(
            select(
                spam_cluster_posts.c.status_id,
                spam_cluster_posts.c.account_id,
                permissions_of(spam_cluster_posts.c.account_id).label("permissions"),
            ).where(spam_cluster_posts.c.cluster_id == cluster_id)
        )
    ).all()
    if not members and decision != Decision.NOT_SPAM:
        raise RuleBroken(f"spam cluster {cluster_id} has no posts left")
    authors = {int(m.account_id): int(m.permissions) for m in members}
    done = 0
    if decision == Decision.SUSPEND:
        for account_id, mask in sorted(authors.items()):
            # Staff are suspended by the operator, one by one, never in bulk.
            if not is_staff(mask) and await do_suspend_account(
                tx, account_id, reason=f"spam cluster {cluster_id}", actor=actor
            ):
                done += 1
    elif decision == Decision.DELETE:
        for m in members:
            await do_delete_status(
                tx, Viewer(account_id=int(m.account_id)), int(m.status_id), delete_media=True
            )
            done += 1
    else:
        released = await tx.execute(delete(spam_holds).where(spam_holds.c.cluster_id == cluster_id))
        done = int(released.rowcount or 0)
    await tx.execute(
        update(spam_clusters)
        .where(spam_clusters.c.id == cluster_id)
        .values(
            state=_STATE_AFTER[decision],
            decided_by_account_id=actor.account_id,
            decided_at=utcnow(),
        )
    )
    await record(
        tx,
        action=f"spam.{decision.value}",
        permission=key(Permission.MANAGE_USERS if decision == Decision.SUSPEND else PERMISSION),
        by=actor,
        subject_type=SUBJECT,
        subject_id=cluster_id,
        details={
            "posts": len(members),
            "accounts": len(authors),
            "changed": done,
            "previous_state": state,
        },
    )
    return done
