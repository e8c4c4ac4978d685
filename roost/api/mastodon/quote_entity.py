"""The ``quote``, ``quotes_count`` and ``quote_approval`` of a Status.

A quote shows the quoted post only when the viewer may see it
(roost/domain/quotes/queries.py decides, through the privacy policy);
otherwise its state is ``unauthorized`` and nothing of the post is named.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from roost.domain.types import StatusView

Render = Callable[[StatusView, int | None, str], dict[str, Any]]

_AUTOMATIC = {"public": ["public"], "followers": ["followers"], "nobody": []}


def _inline(view: StatusView, base: str) -> str:
    """The link paragraph Mastodon puts before a quoting post's text when the
    text has no link to the quoted post, for apps that do not show quotes.
    Added here, for a viewer who may see the quoted post, and never stored:
    to anyone else the quoting post names nothing of it."""
    url = f"{base}/@{view.account.username}/{view.status.id}"
    shown = html.escape(url)
    return f'<p class="quote-inline">RE: <a href="{shown}">{shown}</a></p>'


def quote_fields(
    view: StatusView, viewer_id: int | None, base: str, render: Render
) -> dict[str, Any]:
    """The quote fields of a Status: ``quote`` as a Quote (or, nested in a
    quoted post, a ShallowQuote), ``quotes_count`` and ``quote_approval``;
    and its ``content`` with the link to the quoted post when it has none.
    ``render`` is the Status serializer, for the quoted post."""
    quoting = view.quoting
    assert quoting is not None
    extra: dict[str, Any] = {}
    quote: dict[str, Any] | None = None
    found = quoting.quote
    if found is not None and found.shallow:
        quote = {
            "state": found.state,
            "quoted_status_id": str(found.quoted_status_id) if found.quoted_status_id else None,
        }
    elif found is not None:
        quoted = found.quoted
        if quoted is not None:
            url = f"{base}/@{quoted.account.username}/{quoted.status.id}"
            if url not in view.status.text:
                extra["content"] = _inline(quoted, base) + view.status.content
        quote = {
            "state": found.state,
            "quoted_status": render(found.quoted, viewer_id, base)
            if found.quoted is not None
            else None,
        }
    return {
        **extra,
        "quote": quote,
        "quotes_count": quoting.quotes_count,
        "quote_approval": {
            "automatic": _AUTOMATIC.get(quoting.policy, []),
            "manual": [],
            "current_user": quoting.current_user,
        },
    }
