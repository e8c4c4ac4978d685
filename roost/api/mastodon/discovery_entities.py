"""Mastodon's JSON for the discovery answers: FeaturedTag, Suggestion,
FamiliarFollowers, and a Tag with ``featuring``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import RowMapping

from roost.api.mastodon._common import as_account
from roost.api.mastodon.entities import tag
from roost.api.mastodon.serializers import account
from roost.domain.discovery.featured_tags import FeaturedTag
from roost.domain.discovery.suggestions import FEATURED, Suggestion
from roost.domain.privacy import Visible
from roost.domain.tags.queries import TagView

# v2's deprecated ``source``: one word for the strongest reason.
_OLD_SOURCE = {FEATURED: "staff"}


def featured_tag(found: FeaturedTag, username: str, base: str) -> dict[str, Any]:
    key = found.name.lower()
    last = found.last_status_at
    return {
        "id": str(found.id),
        "name": found.name,
        "url": f"{base}/@{username}/tagged/{key}",
        "statuses_count": str(found.statuses_count),  # a string, as Mastodon sends
        "last_status_at": last.date().isoformat() if last is not None else None,
    }


def featuring_tag(view: TagView, featuring: bool, base: str) -> dict[str, Any]:
    data = tag(view, base)
    if view.following is not None:
        data["featuring"] = featuring
    return data


def suggestion(found: Suggestion, base: str) -> dict[str, Any]:
    first = found.sources[0]
    return {
        "source": _OLD_SOURCE.get(first, "past_interactions"),
        "sources": list(found.sources),
        "account": account(as_account(found.account), base),
    }


def familiar(account_id: int, rows: list[Visible[RowMapping]], base: str) -> dict[str, Any]:
    return {"id": str(account_id), "accounts": [account(as_account(r), base) for r in rows]}
