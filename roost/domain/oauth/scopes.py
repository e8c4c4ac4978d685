"""OAuth scopes as Mastodon defines them, and the one rule for checking them.

A route names the granular scope it needs (``read:statuses``); a token carrying
the broad scope (``read``) covers all of its granular ones. The legacy ``follow``
scope covers reading and writing follows, blocks and mutes.
"""

from __future__ import annotations

from collections.abc import Iterable

GRANULAR = {
    "read": [
        "accounts",
        "blocks",
        "bookmarks",
        "collections",
        "favourites",
        "filters",
        "follows",
        "lists",
        "mutes",
        "notifications",
        "search",
        "statuses",
    ],
    "write": [
        "accounts",
        "blocks",
        "bookmarks",
        "collections",
        "conversations",
        "favourites",
        "filters",
        "follows",
        "lists",
        "media",
        "mutes",
        "notifications",
        "reports",
        "statuses",
    ],
    # Mastodon's admin scopes; the routes of the kinds Roost lacks answer 404.
    "admin:read": [
        "accounts",
        "reports",
        "domain_allows",
        "domain_blocks",
        "ip_blocks",
        "email_domain_blocks",
        "canonical_email_blocks",
    ],
    "admin:write": [
        "accounts",
        "reports",
        "domain_allows",
        "domain_blocks",
        "ip_blocks",
        "email_domain_blocks",
        "canonical_email_blocks",
    ],
}
TOP_LEVEL = ("read", "write", "follow", "push", "profile", "admin:read", "admin:write")
FOLLOW_COVERS = frozenset(
    f"{mode}:{what}" for mode in ("read", "write") for what in ("follows", "blocks", "mutes")
)

ALL_SCOPES: frozenset[str] = frozenset(TOP_LEVEL) | frozenset(
    f"{parent}:{child}" for parent, children in GRANULAR.items() for child in children
)


class ScopeError(ValueError):
    pass


def parse(scopes: str | Iterable[str] | None, default: str = "read") -> frozenset[str]:
    """Split a space- or comma-separated scope string, refusing unknown scopes."""
    if scopes is None:
        scopes = default
    if isinstance(scopes, str):
        items = scopes.replace(",", " ").replace("+", " ").split()
    else:
        items = [s for item in scopes for s in str(item).replace(",", " ").split()]
    if not items:
        items = default.split()
    unknown = sorted(set(items) - ALL_SCOPES)
    if unknown:
        raise ScopeError(f"unknown scope: {' '.join(unknown)}")
    return frozenset(items)


def allows(granted: frozenset[str], required: str) -> bool:
    if required in granted:
        return True
    parent, _, child = required.rpartition(":")
    if child and parent in granted:
        return True
    return required in FOLLOW_COVERS and "follow" in granted


def within(requested: frozenset[str], permitted: frozenset[str]) -> bool:
    """Every requested scope is covered by what the application registered."""
    return all(allows(permitted, scope) for scope in requested)


def render(scopes: Iterable[str]) -> str:
    return " ".join(sorted(scopes, key=lambda s: (":" in s, s)))
