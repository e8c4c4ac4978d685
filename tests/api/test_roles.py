"""Roles and permissions: every admin route checks one named permission
(threat 53), roles show on accounts, admin scopes."""

from __future__ import annotations

import re
from typing import Any

from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from roost.domain.oauth import scopes
from roost.domain.roles.permissions import Permission
from tests.api.staff_support import ADMIN_SCOPES, everything_but, grant, staff_with
from tests.conftest import Roost

_PARAM = re.compile(r"{([^}:]+)(?::[^}]+)?}")
FORBIDDEN = {"error": "This action is not allowed"}


def admin_routes(routes: list[BaseRoute], prefix: str = "") -> list[tuple[str, str, Any]]:
    """(method, path, the route's permission or None) for every admin API route
    (the staff web pages under /admin take a browser session, not a token:
    tests/web/test_staff_web.py walks them the same way)."""
    found: list[tuple[str, str, Any]] = []
    for route in routes:
        if hasattr(route, "original_router"):
            context = getattr(route, "include_context", None)
            inner = prefix + (getattr(context, "prefix", "") or "")
            found += admin_routes(list(route.original_router.routes), inner)
        elif isinstance(route, APIRoute) and (prefix + route.path).startswith("/api/v1/admin/"):
            permissions = [
                getattr(dep.call, "roost_permission", None)
                for dep in route.dependant.dependencies
                if getattr(dep.call, "roost_permission", None) is not None
            ]
            for method in sorted(route.methods or ()):
                found.append((method, prefix + route.path, permissions[0] if permissions else None))
    return found


def test_given_a_role_lacking_each_admin_routes_permission_when_called_then_each_answers_403(
    roost: Roost,
) -> None:
    target = roost.account("target")
    routes = admin_routes(list(roost.client.app.routes))  # type: ignore[attr-defined]
    assert len(routes) >= 4, "the walk should see the admin API"
    unnamed = [f"{m} {p}" for m, p, permission in routes if permission is None]
    assert not unnamed, "admin routes that name no permission: " + ", ".join(unnamed)
    staff_by_permission: dict[Permission, Any] = {}
    let_through: list[str] = []
    for method, path, permission in routes:
        if permission not in staff_by_permission:
            name = f"lacks{len(staff_by_permission)}"
            staff_by_permission[permission] = staff_with(roost, name, everything_but(permission))
        lacking = staff_by_permission[permission]
        url = _PARAM.sub(
            lambda m: target.id if "account" in m.group(1) or m.group(1) == "id" else "1", path
        )
        response = roost.client.request(method, url, headers=lacking.headers, data={})
        if response.status_code != 403 or response.json() != FORBIDDEN:
            let_through.append(f"{method} {path} -> {response.status_code} {response.text[:100]}")
    assert not let_through, "admin routes a role without their permission got past:\n" + "\n".join(
        let_through
    )


def _value(name: str, account_id: str) -> str:
    return account_id if "account" in name or name == "id" else "1"


def test_given_a_moderator_when_they_suspend_and_list_then_their_role_allows_it(
    roost: Roost,
) -> None:
    mod = roost.account("mod", scopes=ADMIN_SCOPES)
    grant(roost, mod, "Moderator")
    spammer = roost.account("spammer")

    listed = mod.get("/api/v1/admin/accounts", params={"staff": "true"})
    answer = mod.post(
        f"/api/v1/admin/accounts/{spammer.id}/action", data={"type": "suspend", "text": "spam"}
    )

    assert listed.status_code == 200
    assert [a["username"] for a in listed.json()] == ["mod"]
    assert listed.json()[0]["role"]["name"] == "Moderator"
    assert listed.json()[0]["role"]["permissions"] == str(0x4 | 0x8 | 0x10 | 0x100 | 0x400)
    assert answer.status_code == 200
    assert roost.client.get(f"/api/v1/accounts/{spammer.id}").status_code == 404


def test_given_a_plain_account_with_admin_scopes_when_it_calls_the_admin_api_then_403(
    roost: Roost,
) -> None:
    plain = roost.account("plain", scopes=ADMIN_SCOPES)
    assert plain.get("/api/v1/admin/accounts").status_code == 403


def test_given_roles_when_accounts_are_shown_then_role_and_badges_appear(roost: Roost) -> None:
    admin = roost.account("boss", scopes=ADMIN_SCOPES)
    grant(roost, admin, "Admin")
    mod = roost.account("quiet", scopes=ADMIN_SCOPES)
    grant(roost, mod, "Moderator")
    nobody = roost.account("nobody")

    me = admin.get("/api/v1/accounts/verify_credentials").json()
    assert me["role"]["name"] == "Admin" and me["role"]["highlighted"] is True
    assert me["roles"] == [{"id": "2", "name": "Admin", "color": ""}]
    # The Moderator role is not highlighted: no badge, but the holder sees it.
    assert mod.get("/api/v1/accounts/verify_credentials").json()["role"]["name"] == "Moderator"
    assert roost.client.get(f"/api/v1/accounts/{mod.id}").json()["roles"] == []
    assert roost.client.get(f"/api/v1/accounts/{admin.id}").json()["roles"][0]["name"] == "Admin"
    plain = nobody.get("/api/v1/accounts/verify_credentials").json()
    assert plain["role"]["id"] == "-99" and plain["roles"] == []


def test_admin_sub_scopes_are_known_and_covered_by_their_parent() -> None:
    granted = scopes.parse("admin:read")
    for child in ("accounts", "reports", "domain_blocks", "ip_blocks", "canonical_email_blocks"):
        assert scopes.allows(granted, f"admin:read:{child}")
        assert not scopes.allows(granted, f"admin:write:{child}")
    assert scopes.parse("admin:write:reports") == frozenset({"admin:write:reports"})


def test_the_built_in_roles_are_mastodons(roost: Roost) -> None:
    from roost.domain.roles.permissions import BUILT_IN
    from roost.domain.roles.queries import all_roles

    async def read() -> list[tuple[int, str, int, bool, int]]:
        async with roost.db.read() as conn:
            found = await all_roles(conn)
        return sorted((r.id, r.name, r.permissions, r.highlighted, r.position) for r, _ in found)

    assert roost.run(read) == sorted(BUILT_IN)
    assert dict((name, mask) for _, name, mask, _, _ in BUILT_IN) == {
        "Owner": 0x1,
        "Admin": 0xEFFFC,
        "Moderator": 0x51C,
    }
