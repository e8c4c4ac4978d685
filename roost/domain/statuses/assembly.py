"""Putting views together, the one step ``queries.hydrate`` and the feed
presenter (roost/domain/statuses/feed.py) share: each row's view in the rows'
order, a boost carrying its original's view. A boost whose original the
viewer may not see (or that has gone) is dropped, and so is a row its ``view``
makes nothing of (an author the viewer may not see, a post deleted meanwhile).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from roost.domain.privacy import Visible
from roost.domain.types import StatusView

R = TypeVar("R")


def assemble(
    rows: Sequence[Visible[R]],
    *,
    boosted: Callable[[R], int | None],
    original: Callable[[int], R | None],
    view: Callable[[R, StatusView | None], StatusView | None],
) -> list[Visible[StatusView]]:
    """``boosted`` names the post a row boosts (None: not a boost),
    ``original`` finds that post's row as the viewer may see it (None: may
    not), ``view`` makes a row's view around the view of its original."""
    result: list[Visible[StatusView]] = []
    for row in rows:
        reblog = None
        boosted_id = boosted(row.value)
        if boosted_id is not None:
            found = original(boosted_id)
            if found is None:
                continue
            reblog = view(found, None)
            if reblog is None:
                continue
        built = view(row.value, reblog)
        if built is not None:
            result.append(row.derive(_Constant(built)))
    return result


class _Constant:
    """The derived value, whatever the row."""

    def __init__(self, value: StatusView) -> None:
        self.value = value

    def __call__(self, _row: object) -> StatusView:
        return self.value
