"""What a viewer's own reading tools change on their home timeline.

  - Followed hashtags bring in public posts that carry them, from anyone.
  - Exclusive lists take their members' posts out (they are read in the list).

Shared by every timeline store, like roost/timelines/mutes.py, so that a cached
home timeline can follow the same rules as the SQL one. The viewer's own posts
are never taken out.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.sql import FromClause

from roost.db.tables import followed_tags, list_accounts, lists, status_tags, statuses
from roost.domain.types import Visibility


def followed_tag_post_ids(me: int) -> Select[Any]:
    return (
        select(status_tags.c.status_id)
        .join(followed_tags, followed_tags.c.tag_id == status_tags.c.tag_id)
        .where(followed_tags.c.account_id == me)
    )


def followed_tag_posts(me: int, table: FromClause = statuses) -> ColumnElement[bool]:
    """True for public posts carrying a hashtag ``me`` follows."""
    return and_(
        table.c.visibility == int(Visibility.PUBLIC), table.c.id.in_(followed_tag_post_ids(me))
    )


def exclusive_members(me: int) -> Select[Any]:
    """Accounts in any of ``me``'s exclusive lists."""
    return (
        select(list_accounts.c.account_id)
        .join(lists, lists.c.id == list_accounts.c.list_id)
        .where(lists.c.account_id == me, lists.c.exclusive.is_(True))
    )


def outside_exclusive_lists(me: int, table: FromClause = statuses) -> ColumnElement[bool]:
    """True for rows not by a member of one of ``me``'s exclusive lists."""
    return or_(table.c.account_id == me, table.c.account_id.not_in(exclusive_members(me)))
