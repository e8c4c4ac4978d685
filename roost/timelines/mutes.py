"""What a viewer's timelines leave out because of their mutes and blocks.

Not a privacy rule: everything left out here stays readable on its own page
(roost/domain/privacy.py decides that). These are the filters of the muter's
own feeds, shared by every timeline store so that a cached home timeline leaves
out exactly what the SQL one does.

Home leaves out, except the viewer's own posts:
  - posts by accounts the viewer mutes;
  - boosts of posts by accounts the viewer mutes or is blocked with;
  - replies to, and posts mentioning, accounts the viewer mutes or is blocked with.
Public and hashtag timelines leave out posts by accounts the viewer mutes.
(Posts by accounts on either side of a block are invisible under the policy.)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, exists, or_, select, true
from sqlalchemy.sql import FromClause

from roost.db.tables import mentions, statuses
from roost.db.types import UTCDateTime
from roost.domain import privacy
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
    home. ``now``: see ``muted_ids``."""
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
                original.c.id == c.reblog_of_id, _any_in(original.c.account_id, quiet)
            )
        )
        & ~exists(
            select(mentioned.c.status_id).where(
                mentioned.c.status_id == c.id, _any_in(mentioned.c.account_id, quiet)
            )
        ),
    )


def public_filter(
    viewer: Viewer, table: FromClause = statuses, *, now: Any = None
) -> ColumnElement[bool]:
    """True for the rows of ``table`` that the viewer's mutes allow on public
    timelines. ``now``: see ``muted_ids``."""
    if viewer.account_id is None:
        return true()
    return ~table.c.account_id.in_(muted_ids(viewer.account_id, now=now))
