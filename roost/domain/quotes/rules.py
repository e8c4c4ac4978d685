"""Who may quote a post, as Mastodon 4.5 decides it (no manual review).

A post's policy is ``public`` (anyone who sees it), ``followers`` (its
author's followers) or ``nobody``; followers-only and direct posts are always
``nobody``. Its author may quote any of their own posts but a direct one.
"""

from __future__ import annotations

from roost.domain.types import Visibility

POLICIES = ("public", "followers", "nobody")
DEFAULT_POLICY = "public"


def effective_policy(visibility: Visibility, stored: str | None) -> str:
    if visibility in (Visibility.PRIVATE, Visibility.DIRECT):
        return "nobody"
    return stored or DEFAULT_POLICY


def current_user(
    policy: str,
    visibility: Visibility,
    *,
    viewer_id: int | None,
    author_id: int,
    follows_author: bool,
    is_boost: bool = False,
) -> str:
    """``automatic`` when the viewer may quote the post, else ``denied``."""
    if is_boost or visibility == Visibility.DIRECT:
        return "denied"
    if viewer_id is not None and viewer_id == author_id:
        return "automatic"
    if policy == "public":
        return "automatic"
    if policy == "followers" and follows_author:
        return "automatic"
    return "denied"
