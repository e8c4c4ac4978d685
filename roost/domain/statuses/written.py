"""The answer to a new post, made from what its write produced.

``POST /api/v1/statuses`` answers with the post as ``GET /api/v1/statuses/:id``
shows it to its author right after (tests/api/test_post_answer.py holds the
two together). Its words, mentions, tags and media are what the write just
made (``actions.Created.parts``), read back from nowhere. What depends on the
viewer, or is not the write's to know, comes after the commit through the
privacy policy, as a timeline page reads it (roost/domain/statuses/feed.py):
one prepared read of the post's row (its numbers, the author's marks on it
and their account as it is now, the application's name), one of the
mentioned accounts the policy lets the author see named (when it mentions
any), and one of its extras (a poll, a quote). Before, the answer was read
back whole through SQLAlchemy: a transaction and some ten statements.

Nothing goes into the caches of shared parts (roost/domain/statuses/shared.py)
or of rendered JSON (roost/api/mastodon/json_cache.py): the parts are handed
to the presenter, not looked up, and the view carries no parts key. Timelines
load the post into those caches the first time a page shows it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import BigInteger, Select, bindparam

from roost.db.engine import ReadScope
from roost.db.tables import applications, statuses
from roost.domain.privacy import PolicyRead, Visible
from roost.domain.statuses.actions import Created
from roost.domain.statuses.feed import present
from roost.domain.statuses.feed_rows import feed_select
from roost.domain.types import AppInfo, StatusView, Viewer
from roost.errors import NotFound


def _written_select(viewer: Viewer) -> Select[Any]:
    """``feed_select`` of one post, and the name and website of the
    application it was written with as its two last columns."""
    return (
        feed_select(viewer)
        .add_columns(applications.c.name, applications.c.website)
        .outerjoin(applications, applications.c.id == statuses.c.application_id)
        .where(statuses.c.id == bindparam("status_id", type_=BigInteger()))
    )


_WRITTEN = PolicyRead(_written_select)


async def answer(reads: ReadScope, viewer: Viewer, created: Created) -> Visible[StatusView]:
    """The post ``created`` (with its parts) as ``viewer`` sees it now;
    NotFound when the policy does not let them see it."""
    assert created.parts is not None
    rows = await _WRITTEN.rows(reads.fast, viewer, raw=True, status_id=created.status_id)
    if not rows:
        raise NotFound()
    (row,) = rows
    name, website = row.value[-2:]
    parts = replace(
        created.parts,
        application=None if name is None else AppInfo(name=name, website=website),
    )
    views = await present(
        reads, viewer, [row.derive(lambda r: r[:-2])], parts={created.status_id: parts}
    )
    if not views:
        raise NotFound()
    return views[0].derive(lambda view: replace(view, parts_key=None))
