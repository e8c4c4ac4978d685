"""Mastodon's Role entity, and where an account shows its role."""

from __future__ import annotations

from typing import Any

from roost.domain.roles.queries import Role

# Mastodon's everyone-role, shown as the role of an account that holds none.
EVERYONE = {"id": "-99", "name": "", "color": "", "permissions": "0", "highlighted": False}


def role(held: Role | None) -> dict[str, Any]:
    """Role (Admin::Account's and CredentialAccount's ``role``)."""
    if held is None:
        return dict(EVERYONE)
    return {
        "id": str(held.id),
        "name": held.name,
        "color": held.color,
        "permissions": str(held.permissions),
        "highlighted": held.highlighted,
    }


def badges(held: Role | None) -> list[dict[str, Any]]:
    """An account's ``roles``: its role when it is shown as a badge."""
    if held is None or not held.highlighted:
        return []
    return [{"id": str(held.id), "name": held.name, "color": held.color}]
