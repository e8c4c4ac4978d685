"""What a viewer's timelines leave out for now: their mutes, blocks and
exclusive lists.

Not a privacy rule: everything left out here stays readable on its own page
(roost/domain/privacy.py decides that). These are the filters of the viewer's
own feeds, applied when reading, because they can end and the posts must then
show again; a cached home timeline (roost/timelines/redis.py) keeps the
entries and leaves out exactly what the database's read does.

Home leaves out, except the viewer's own posts:
  - posts by accounts the viewer mutes;
  - boosts of posts by accounts the viewer mutes or is blocked with;
  - replies to, and posts mentioning, accounts the viewer mutes or is blocked with;
  - posts by members of the viewer's exclusive lists (they are read in the list);
  - boosts of posts by accounts of a domain the viewer blocks.
Public and hashtag timelines leave out posts by accounts the viewer mutes or
of a domain the viewer blocks (roost/domain/discovery/domain_hiding.py), and
those of silenced accounts the viewer does not follow (``privacy.heard``).
(Posts by accounts on either side of a block are invisible under the policy.)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, exists, or_, select
from sqlalchemy.sql import FromClause

from roost.db.tables import list_accounts, lists, mentions, statuses
from roost.db.types import UTCDateTime
from roost.domain import privacy
from roost.domain.discovery.domain_hiding import hidden_domain_accounts
from roost.domain.graph.mutes import muted_ids
from roost.domain.types import Viewer


def _quiet(me: int, now: Any) -> list[Select[Any]]:
    """Accounts whose presence in a post keeps it off ``me``'s home."""
    return [muted_ids(me, now=now), *privacy.blocked_either_way(me)]


def _any_in(column: ColumnElement[int], queries: list[Select[Any]]) -> ColumnElement[bool]:
    return or_(*(column.in_(q) for q in queries))


def read_time() -> Any:
    """The bound parameter ``now`` of prepared reads (roost/db/fastread.py):
    mutes with an expiry compare against the time of the read, passed as
    ``now=roost.domain.graph.mutes.mute_time()``."""
    return bindparam("now", type_=UTCDateTime())


def home_filter(
    viewer: Viewer, table: FromClause = statuses, *, now: Any = None
) -> ColumnElement[bool]:
    """True for the rows of ``table`` that the viewer's mutes and blocks allow on
    home (and on their lists). ``now``: see ``muted_ids``."""
    me = viewer.account_id
    assert me is not None
    c = table.c
    quiet = _quiet(me, now)
    original = statuses.alias("home_boosted")
    mentioned = mentions.alias("home_mentioned")
    return or_(
        c.account_id == me,
        ~c.account_id.in_(muted_ids(me, now=now))
        & or_(c.in_reply_to_account_id.is_(None), ~_any_in(c.in_reply_to_account_id, quiet))
        & ~exists(
            select(original.c.id).where(
                original.c.id == c.reblog_of_id,
                _any_in(original.c.account_id, [*quiet, hidden_domain_accounts(me)]),
            )
        )
        & ~exists(
            select(mentioned.c.status_id).where(
                mentioned.c.status_id == c.id, _any_in(mentioned.c.account_id, quiet)
            )
        ),
    )


def exclusive_members(me: int) -> Select[Any]:
    """Accounts in any of ``me``'s exclusive lists."""
    return (
        select(list_accounts.c.account_id)
        .join(lists, lists.c.id == list_accounts.c.list_id)
        .where(lists.c.account_id == me, lists.c.exclusive.is_(True))
    )


def outside_exclusive_lists(me: int, table: FromClause = statuses) -> ColumnElement[bool]:
    """True for rows not by a member of one of ``me``'s exclusive lists (the
    viewer's own posts are never taken out)."""
    return or_(table.c.account_id == me, table.c.account_id.not_in(exclusive_members(me)))


def kept_on_home(viewer: Viewer, *, now: Any = None) -> ColumnElement[bool]:
    """Everything above that applies to home: hidden while it lasts."""
    assert viewer.account_id is not None
    return and_(home_filter(viewer, now=now), outside_exclusive_lists(viewer.account_id))


def public_filter(
    viewer: Viewer, table: FromClause = statuses, *, now: Any = None
) -> ColumnElement[bool]:
    """True for the rows of ``table`` that the viewer's mutes and domain blocks
    allow on public timelines, and whose authors the viewer may hear there.
    ``now``: see ``muted_ids``."""
    heard = privacy.heard(viewer, table.c.account_id)
    if viewer.account_id is None:
        return heard
    return and_(
        heard,
        ~table.c.account_id.in_(muted_ids(viewer.account_id, now=now)),
        ~table.c.account_id.in_(hidden_domain_accounts(viewer.account_id)),
    )
