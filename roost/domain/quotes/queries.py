"""Reading quotes: a post's policy, its quote count, and the post it quotes,
for one viewer. A quote names the quoted post only to a viewer the policy
lets see it (roost/domain/privacy.py); to anyone else it is ``unauthorized``.

An accepted quote's state, per viewer, as Mastodon 4.5 tells it:
``deleted`` (the quoted post is gone), ``blocked_account`` (hidden only
because the viewer blocks its author: still nothing of it is named),
``unauthorized`` (hidden for any other reason), ``muted_account`` (the viewer
mutes its author; the post is carried, a mute hiding nothing), else
``accepted``. ``revoked`` is stored, for everyone. Between accounts of one
server quoting is decided at once by the policy; a post received from
another server may be stored ``pending`` (its quoted post being fetched, or
its authorization checked) or ``rejected`` (a local post whose policy
refuses its author, or an authorization that does not hold), and a local
quote of another server's post ``pending`` until its author answers, or
``rejected`` (roost/domain/federation/quoted.py): none shows anything of
the quoted post.
``blocked_domain`` is not produced."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import BigInteger, String, cast, func, literal, null, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.tables import follows, quote_policies, quotes, statuses, users
from roost.domain import privacy
from roost.domain.graph.mutes import muted_ids
from roost.domain.privacy import Visible
from roost.domain.quotes.rules import DEFAULT_POLICY, current_user, effective_policy
from roost.domain.types import QuoteView, Quoting, StatusView, Viewer

Loader = Callable[[AsyncConnection, Viewer, set[int]], Awaitable[list[Visible[StatusView]]]]


async def stored_policy(conn: AsyncConnection, status_id: int) -> str | None:
    found = await conn.execute(
        select(quote_policies.c.policy).where(quote_policies.c.status_id == status_id)
    )
    return found.scalar_one_or_none()


async def default_policy(conn: AsyncConnection, account_id: int) -> str:
    """The policy an account's new posts take when they name none (its
    ``source[quote_policy]``; ``public`` when it never chose)."""
    found = await conn.execute(
        select(users.c.default_quote_policy).where(users.c.account_id == account_id)
    )
    return found.scalar_one_or_none() or DEFAULT_POLICY


async def follows_any(conn: AsyncConnection, follower: int, targets: Iterable[int]) -> set[int]:
    """Which of ``targets`` ``follower`` follows."""
    wanted = list(set(targets))
    if not wanted:
        return set()
    rows = await conn.execute(
        select(follows.c.target_account_id).where(
            follows.c.account_id == follower, follows.c.target_account_id.in_(wanted)
        )
    )
    return {int(r[0]) for r in rows}


@dataclass(frozen=True)
class QuoteFacts:
    """What quoting asks of a page of posts, read with the page's other facts
    (roost/domain/statuses/extras.py): stored policies, quotes made (quoted
    id, state), accepted quotes counted."""

    policies: dict[int, str] = field(default_factory=dict)
    made: dict[int, tuple[int | None, str]] = field(default_factory=dict)
    counts: dict[int, int] = field(default_factory=dict)


def facts_branches(among: Callable[[Any], Any]) -> list[Any]:
    """The parts of the page's facts query that quoting reads: rows of (kind,
    status id, number, word) (``among(column)``: the column is one of the
    page's post ids)."""
    return [
        select(
            literal("policy").label("kind"),
            quote_policies.c.status_id.label("status_id"),
            cast(null(), BigInteger).label("number"),
            quote_policies.c.policy.label("word"),
        ).where(among(quote_policies.c.status_id)),
        select(
            literal("quote"), quotes.c.status_id, quotes.c.quoted_status_id, quotes.c.state
        ).where(among(quotes.c.status_id)),
        select(literal("count"), quotes.c.quoted_status_id, func.count(), cast(null(), String(16)))
        .where(among(quotes.c.quoted_status_id), quotes.c.state == "accepted")
        .group_by(quotes.c.quoted_status_id),
    ]


def take_fact(facts: QuoteFacts, kind: str, status_id: int, number: Any, word: Any) -> bool:
    """Put one row of the facts query in ``facts``; False when it is not quoting's."""
    if kind == "policy":
        facts.policies[status_id] = word
    elif kind == "quote":
        facts.made[status_id] = (number, word)
    elif kind == "count":
        facts.counts[status_id] = int(number)
    else:
        return False
    return True


async def with_quotes(
    open_conn: Callable[[], Awaitable[AsyncConnection]],
    viewer: Viewer,
    views: Sequence[Visible[StatusView]],
    *,
    facts: QuoteFacts,
    load: Loader | None,
) -> list[Visible[StatusView]]:
    """``views`` (and their boosted originals) with their ``quoting`` set.

    ``load`` hydrates quoted posts the viewer may see; without it (a quoted
    post's own quote) only the state and id are given, as Mastodon nests a
    ShallowQuote. ``open_conn`` gives the connection to read with, asked only
    when the facts name something to read (most pages: nothing)."""
    if not views:
        return []
    every = [v.value for v in views] + [v.value.reblog for v in views if v.value.reblog]
    policies, made, counts = facts.policies, facts.made, facts.counts
    me = viewer.account_id
    followed: set[int] = set()
    if me is not None:
        asking = {
            s.account.id
            for s in every
            if s.account.id != me
            and effective_policy(s.status.visibility, policies.get(s.status.id)) == "followers"
        }
        if asking:
            followed = await follows_any(await open_conn(), me, asking)
    targets = {q for q, state in made.values() if state == "accepted" and q is not None}
    loaded: dict[int, StatusView] = {}
    shown: set[int] = set()
    if targets:
        conn = await open_conn()
        if load is not None:
            loaded = {v.value.status.id: v.value for v in await load(conn, viewer, targets)}
            shown = set(loaded)
        else:
            shown = await privacy.visible_status_ids(conn, viewer, targets)
    hidden = targets - shown
    existing: set[int] = set()
    if hidden:
        conn = await open_conn()
        rows = await conn.execute(select(statuses.c.id).where(statuses.c.id.in_(hidden)))
        existing = {int(r[0]) for r in rows}
    own_block: set[int] = set()
    muted: set[int] = set()
    if me is not None and existing:
        own_block = await privacy.hidden_by_own_block(await open_conn(), me, existing)
    if me is not None and shown:
        muted = await _muted_authors(await open_conn(), me, shown)

    def quote_of(status_id: int) -> QuoteView | None:
        found = made.get(status_id)
        if found is None:
            return None
        quoted_id, state = found
        if state != "accepted":
            return QuoteView(state)
        if quoted_id is None or (quoted_id not in shown and quoted_id not in existing):
            return QuoteView("deleted")
        if quoted_id in own_block:
            return QuoteView("blocked_account")
        if quoted_id not in shown:
            return QuoteView("unauthorized")
        state = "muted_account" if quoted_id in muted else "accepted"
        return QuoteView(state, quoted_id, loaded.get(quoted_id), shallow=load is None)

    def quoting(view: StatusView) -> Quoting:
        s = view.status
        policy = effective_policy(s.visibility, policies.get(s.id))
        return Quoting(
            policy=policy,
            current_user=current_user(
                policy,
                s.visibility,
                viewer_id=me,
                author_id=s.account_id,
                follows_author=s.account_id in followed,
                is_boost=s.reblog_of_id is not None,
            ),
            quotes_count=counts.get(s.id, 0),
            quote=quote_of(s.id),
        )

    def attach(view: StatusView) -> StatusView:
        reblog = view.reblog
        if reblog is not None:
            reblog = replace(reblog, quoting=quoting(reblog))
        return replace(view, quoting=quoting(view), reblog=reblog)

    return [v.derive(attach) for v in views]


async def _muted_authors(conn: AsyncConnection, me: int, ids: set[int]) -> set[int]:
    """Of ``ids`` (posts ``me`` may see), those whose author ``me`` mutes: a
    quote of one says ``muted_account`` (and still carries the post, as a
    mute hides nothing: the app decides how to fold it)."""
    if not ids:
        return set()
    rows = await conn.execute(
        select(statuses.c.id).where(
            statuses.c.id.in_(list(ids)), statuses.c.account_id.in_(muted_ids(me))
        )
    )
    return {int(r[0]) for r in rows}


def quotes_of_query(status_id: int) -> Any:
    """Posts with an accepted quote of ``status_id`` (for ``queries.paged``)."""
    return select(statuses).where(
        statuses.c.id.in_(
            select(quotes.c.status_id).where(
                quotes.c.quoted_status_id == status_id, quotes.c.state == "accepted"
            )
        )
    )
