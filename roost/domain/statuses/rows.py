"""The one builder of a new ``statuses`` row: a post, a boost, an imported post.

Whoever writes a post (``do_create_status``, ``do_reblog``, the Twitter
importer's batches) takes its values from ``new_status_row`` and inserts them
as it needs (one row, or many in one statement): so every new row has every
column set the same way. Its counters start at zero, it was never edited, and
its words (text, rendered HTML, content warning) are sealed under the
author's key (roost/keys/ring.py), so they go with the key on erasure, old
backups included. A boost has no words of its own: its original's are shown.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from roost.keys.ring import seal
from roost.visibility import Visibility


def new_status_row(
    *,
    status_id: int,
    account_id: int,
    visibility: Visibility,
    created_at: datetime,
    text: str = "",
    html: str = "",
    spoiler_text: str = "",
    sensitive: bool = False,
    language: str | None = None,
    in_reply_to_id: int | None = None,
    in_reply_to_account_id: int | None = None,
    reblog_of_id: int | None = None,
    application_id: int | None = None,
) -> dict[str, Any]:
    """Every column of a new post's row. A content warning makes a post
    sensitive, whatever ``sensitive`` says (as Mastodon does)."""
    return {
        "id": status_id,
        "account_id": account_id,
        "in_reply_to_id": in_reply_to_id,
        "in_reply_to_account_id": in_reply_to_account_id,
        "reblog_of_id": reblog_of_id,
        "application_id": application_id,
        "visibility": int(visibility),
        "text": seal(account_id, text),
        "content": seal(account_id, html),
        "spoiler_text": seal(account_id, spoiler_text),
        "sensitive": sensitive or bool(spoiler_text),
        "language": language,
        "replies_count": 0,
        "reblogs_count": 0,
        "favourites_count": 0,
        "created_at": created_at,
        "edited_at": None,
    }
