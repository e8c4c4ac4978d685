"""Blocks on who may sign up, kept by staff with manage_blocks through
Mastodon's admin API: e-mail domains, canonical e-mail addresses and IP
ranges, each enforced at sign-up (API and web), and ``no_access`` ranges
refused on every request."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from roost.domain.audit.chain import entries
from roost.domain.blocks.canonical_emails import canonical_email, canonical_email_hash
from roost.domain.roles.permissions import Permission
from tests.api.staff_support import staff_with
from tests.api.test_sign_up_guards import _accounts, _api_sign_up, _web_sign_up
from tests.conftest import Roost, User


def _staff(roost: Roost) -> User:
    return staff_with(roost, "blocker", int(Permission.MANAGE_BLOCKS))


@contextmanager
def from_address(roost: Roost, address: str) -> Iterator[None]:
    """Requests through the test client come from ``address``."""
    transport: Any = roost.client._transport  # type: ignore[attr-defined]
    before = transport.client
    transport.client = (address, 40000)
    try:
        yield
    finally:
        transport.client = before


def _actions(roost: Roost) -> set[str]:
    async def body() -> set[str]:
        async with roost.db.read() as conn:
            return {e.action for e in await entries(conn, limit=100)}

    return roost.run(body)


# -- e-mail domain blocks ---------------------------------------------------------


@pytest.mark.settings(registrations="open")
def test_given_staff_when_they_block_an_email_domain_via_the_api_then_sign_ups_there_fail(
    roost: Roost,
) -> None:
    staff = _staff(roost)

    made = staff.post("/api/v1/admin/email_domain_blocks", data={"domain": "Spam.Example"})

    assert made.status_code == 200, made.text
    block = made.json()
    assert block["domain"] == "spam.example" and block["history"] == []
    again = staff.post("/api/v1/admin/email_domain_blocks", data={"domain": "spam.example"})
    assert again.status_code == 422 and "already been taken" in again.json()["error"]
    assert [b["id"] for b in staff.get("/api/v1/admin/email_domain_blocks").json()] == [block["id"]]
    assert staff.get(f"/api/v1/admin/email_domain_blocks/{block['id']}").json() == block
    refused = _api_sign_up(roost, "spammer", "x@mx.spam.example")
    assert refused.status_code == 422
    assert staff.delete(f"/api/v1/admin/email_domain_blocks/{block['id']}").json() == {}
    assert _api_sign_up(roost, "spammer", "x@mx.spam.example").status_code == 200
    assert {"email_domain_block.create", "email_domain_block.destroy"} <= _actions(roost)


# -- canonical e-mail blocks --------------------------------------------------------


def test_given_addresses_in_many_spellings_then_their_canonical_form_is_mastodons() -> None:
    assert canonical_email("Jane.Doe+promo@Example.COM") == "janedoe@example.com"
    assert canonical_email_hash("jane.doe@example.com") == canonical_email_hash(
        "JANEDOE+x@example.com"
    )
    assert canonical_email_hash("jane@example.com") != canonical_email_hash("jane@example.org")


@pytest.mark.settings(registrations="open")
def test_given_a_canonical_block_when_the_address_signs_up_in_another_spelling_then_it_is_refused(
    roost: Roost,
) -> None:
    staff = _staff(roost)

    made = staff.post(
        "/api/v1/admin/canonical_email_blocks", data={"email": "troll.account@example.com"}
    )

    assert made.status_code == 200, made.text
    block = made.json()
    assert block == {
        "id": block["id"],
        "canonical_email_hash": canonical_email_hash("trollaccount@example.com"),
    }
    tested = staff.post(
        "/api/v1/admin/canonical_email_blocks/test",
        data={"email": "T.r.o.l.l.Account+2@example.com"},
    ).json()
    assert [b["id"] for b in tested] == [block["id"]]
    other = staff.post(
        "/api/v1/admin/canonical_email_blocks/test", data={"email": "someone@example.com"}
    )
    assert other.json() == []
    refused = _api_sign_up(roost, "troll", "Troll.Account+new@EXAMPLE.com")
    assert refused.status_code == 422
    assert refused.json()["details"]["email"][0]["error"] == "ERR_BLOCKED"
    page = _web_sign_up(roost, "troll2", "trollaccount@example.com")
    assert page.status_code == 422
    assert _accounts(roost) == 1  # the staff member only
    assert staff.get(f"/api/v1/admin/canonical_email_blocks/{block['id']}").json() == block
    assert [b["id"] for b in staff.get("/api/v1/admin/canonical_email_blocks").json()] == [
        block["id"]
    ]
    assert staff.delete(f"/api/v1/admin/canonical_email_blocks/{block['id']}").json() == {}
    assert _api_sign_up(roost, "troll", "trollaccount@example.com").status_code == 200
    assert {"canonical_email_block.create", "canonical_email_block.destroy"} <= _actions(roost)


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({}, "can't be blank"),
        ({"canonical_email_hash": "abc"}, "SHA-256"),
    ],
)
def test_given_a_bad_canonical_block_when_asked_then_422(
    roost: Roost, fields: dict[str, str], says: str
) -> None:
    answer = _staff(roost).post("/api/v1/admin/canonical_email_blocks", data=fields)

    assert answer.status_code == 422 and says in answer.json()["error"]


def test_given_a_hash_when_it_is_blocked_twice_then_the_second_is_refused(roost: Roost) -> None:
    staff = _staff(roost)
    digest = canonical_email_hash("someone@example.com")

    first = staff.post(
        "/api/v1/admin/canonical_email_blocks", data={"canonical_email_hash": digest}
    )
    second = staff.post(
        "/api/v1/admin/canonical_email_blocks", data={"email": "some.one@example.com"}
    )

    assert first.status_code == 200 and first.json()["canonical_email_hash"] == digest
    assert second.status_code == 422


# -- IP blocks --------------------------------------------------------------------


def test_given_staff_when_they_keep_ip_blocks_then_ranges_are_normalised_changed_and_audited(
    roost: Roost,
) -> None:
    staff = _staff(roost)

    made = staff.post(
        "/api/v1/admin/ip_blocks",
        data={"ip": "192.0.2.77/24", "severity": "sign_up_block", "comment": "bot farm"},
    )

    assert made.status_code == 200, made.text
    block = made.json()
    assert block["ip"] == "192.0.2.0/24" and block["severity"] == "sign_up_block"
    assert block["comment"] == "bot farm" and block["expires_at"] is None
    single = staff.post(
        "/api/v1/admin/ip_blocks",
        data={"ip": "2001:db8::1", "severity": "sign_up_requires_approval", "expires_in": "3600"},
    ).json()
    assert single["ip"] == "2001:db8::1/128" and single["expires_at"] is not None
    taken = staff.post(
        "/api/v1/admin/ip_blocks", data={"ip": "192.0.2.0/24", "severity": "no_access"}
    )
    assert taken.status_code == 422
    assert {b["id"] for b in staff.get("/api/v1/admin/ip_blocks").json()} == {
        block["id"],
        single["id"],
    }
    changed = staff.put(
        f"/api/v1/admin/ip_blocks/{block['id']}", data={"severity": "sign_up_requires_approval"}
    ).json()
    assert changed["severity"] == "sign_up_requires_approval" and changed["ip"] == "192.0.2.0/24"
    assert staff.delete(f"/api/v1/admin/ip_blocks/{block['id']}").json() == {}
    assert staff.get(f"/api/v1/admin/ip_blocks/{block['id']}").status_code == 404
    assert {"ip_block.create", "ip_block.update", "ip_block.destroy"} <= _actions(roost)


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"severity": "no_access"}, "Ip can't be blank"),
        ({"ip": "192.0.2.1"}, "Severity can't be blank"),
        ({"ip": "not-an-ip", "severity": "no_access"}, "not an IP address"),
        ({"ip": "192.0.2.1", "severity": "forever"}, "Severity must be one of"),
    ],
)
def test_given_a_bad_ip_block_when_asked_then_422_says_why(
    roost: Roost, fields: dict[str, str], says: str
) -> None:
    answer = _staff(roost).post("/api/v1/admin/ip_blocks", data=fields)

    assert answer.status_code == 422 and says in answer.json()["error"]


@pytest.mark.settings(registrations="open")
def test_given_a_sign_up_block_when_someone_in_the_range_signs_up_then_403_and_outside_it_works(
    roost: Roost,
) -> None:
    _staff(roost).post(
        "/api/v1/admin/ip_blocks", data={"ip": "198.51.100.0/24", "severity": "sign_up_block"}
    )

    with from_address(roost, "198.51.100.9"):
        refused = _api_sign_up(roost, "bot", "bot@example.com")
        page = _web_sign_up(roost, "bot2", "bot2@example.com")
    with from_address(roost, "198.51.101.9"):
        fine = _api_sign_up(roost, "person", "person@example.com")

    assert refused.status_code == 403
    assert refused.json() == {"error": "This action is not allowed"}
    assert page.status_code == 403
    assert fine.status_code == 200
    assert _accounts(roost) == 2


@pytest.mark.settings(registrations="open")
def test_given_an_approval_range_when_someone_in_it_signs_up_then_the_account_waits(
    roost: Roost,
) -> None:
    staff = staff_with(roost, "both", int(Permission.MANAGE_BLOCKS | Permission.MANAGE_USERS))
    staff.post(
        "/api/v1/admin/ip_blocks",
        data={"ip": "203.0.113.0/24", "severity": "sign_up_requires_approval"},
    )

    with from_address(roost, "203.0.113.50"):
        held = _api_sign_up(roost, "held", "held@example.com")
    with from_address(roost, "192.0.2.1"):
        free = _api_sign_up(roost, "free", "free@example.com")

    assert held.status_code == 200 and free.status_code == 200
    pending = staff.get("/api/v1/admin/accounts", params={"status": "pending"}).json()
    assert [a["username"] for a in pending] == ["held"]


def test_given_a_no_access_range_then_every_request_from_it_is_refused_until_lifted(
    roost: Roost,
) -> None:
    staff = _staff(roost)
    made = staff.post(
        "/api/v1/admin/ip_blocks", data={"ip": "2001:db8:bad::/48", "severity": "no_access"}
    ).json()

    with from_address(roost, "2001:db8:bad::7"):
        api = roost.client.get("/api/v1/instance")
        page = roost.client.get("/about")
    with from_address(roost, "2001:db8:600d::7"):
        elsewhere = roost.client.get("/api/v1/instance")

    assert api.status_code == 403 and api.json() == {"error": "This action is not allowed"}
    assert page.status_code == 403
    assert elsewhere.status_code == 200
    staff.delete(f"/api/v1/admin/ip_blocks/{made['id']}")
    with from_address(roost, "2001:db8:bad::7"):
        assert roost.client.get("/api/v1/instance").status_code == 200


def test_given_an_expired_no_access_block_then_the_range_is_let_in_and_it_is_not_listed(
    roost: Roost,
) -> None:
    import time

    staff = _staff(roost)
    # Three seconds: long enough that the first request surely comes before
    # the expiry on a loaded machine, short enough to wait out.
    staff.post(
        "/api/v1/admin/ip_blocks",
        data={"ip": "192.0.2.0/28", "severity": "no_access", "expires_in": "3"},
    )
    made = time.monotonic()  # the expiry is at most 3 s from here
    with from_address(roost, "192.0.2.3"):
        assert roost.client.get("/api/v1/instance").status_code == 403

    time.sleep(max(0.0, made + 3.2 - time.monotonic()))

    with from_address(roost, "192.0.2.3"):
        assert roost.client.get("/api/v1/instance").status_code == 200
    assert staff.get("/api/v1/admin/ip_blocks").json() == []


def test_given_overlapping_ranges_of_both_versions_then_the_access_list_refuses_exactly_them() -> (
    None
):
    from roost.domain.blocks.ip import AccessList, network

    access = AccessList()
    access.hold([network("10.0.0.0/16"), network("10.0.128.0/17"), network("2001:db8::/32")])

    assert access.refuses("10.0.255.255") and access.refuses("10.0.0.0")
    assert not access.refuses("10.1.0.0") and not access.refuses("9.255.255.255")
    assert access.refuses("2001:db8:ffff::1") and not access.refuses("2001:db9::1")
    assert not access.refuses("::ffff:10.0.0.1")  # another version's space
    assert not access.refuses("testclient")
    access.hold([])
    assert not access.refuses("10.0.0.1")  # remembered answers go with a reload


def test_given_an_unreachable_database_when_the_ranges_are_due_for_reload_then_requests_go_on(
    tmp_path: Path,
) -> None:
    from roost.api.ip_access import IpAccess
    from roost.config import load_settings
    from roost.db.engine import Database
    from roost.domain.blocks.ip import AccessList, network

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings = load_settings(
        data_dir=tmp_path,
        secret_key="s" * 40,
        database_url=f"postgresql://nobody@127.0.0.1:{closed_port}/none",
    )
    db = Database(settings)
    access = AccessList(ttl_s=0)
    access.hold([network("192.0.2.0/24")])
    answered: list[int] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        answered.append(200)

    async def send(message: Any) -> None:
        if message["type"] == "http.response.start":
            answered.append(message["status"])

    async def call(address: str) -> None:
        scope = {"type": "http", "path": "/livez", "client": (address, 1), "headers": []}
        await IpAccess(app, db=db, access=access)(scope, None, send)  # type: ignore[arg-type]

    async def both() -> None:
        try:
            await call("198.51.100.1")
            await call("192.0.2.1")
        finally:
            await db.dispose()

    asyncio.run(both())

    # The database could not be read: the range held before is still refused.
    assert answered == [200, 403]
