"""Domain blocks and allows: staff with manage_federation keep them through
Mastodon's admin API, each change audited; the public list shows what the
operator lets it; federation will ask ``domain_policy``."""

from __future__ import annotations

import pytest

from roost.domain.audit.chain import entries, verify
from roost.domain.blocks.domains import domain_policy
from roost.domain.roles.permissions import Permission
from tests.api.staff_support import staff_with
from tests.conftest import Roost, User


def _admin(roost: Roost) -> User:
    return staff_with(roost, "fed", int(Permission.MANAGE_FEDERATION))


def _actions(roost: Roost) -> list[str]:
    async def body() -> list[str]:
        async with roost.db.read() as conn:
            return [e.action for e in await entries(conn, limit=100)]

    return roost.run(body)


def test_given_federation_staff_when_they_block_change_and_lift_a_domain_then_each_is_audited(
    roost: Roost,
) -> None:
    admin = _admin(roost)

    made = admin.post(
        "/api/v1/admin/domain_blocks",
        data={
            "domain": "Spam.Example",
            "severity": "suspend",
            "reject_media": "true",
            "private_comment": "known spam source",
            "public_comment": "spam",
        },
    )

    assert made.status_code == 200, made.text
    block = made.json()
    assert block["domain"] == "spam.example" and block["severity"] == "suspend"
    assert block["reject_media"] is True and block["reject_reports"] is False
    assert block["private_comment"] == "known spam source" and block["obfuscate"] is False
    assert len(block["digest"]) == 64
    listed = admin.get("/api/v1/admin/domain_blocks").json()
    assert [b["id"] for b in listed] == [block["id"]]
    assert admin.get(f"/api/v1/admin/domain_blocks/{block['id']}").json() == block
    changed = admin.put(
        f"/api/v1/admin/domain_blocks/{block['id']}", data={"severity": "silence"}
    ).json()
    assert changed["severity"] == "silence" and changed["reject_media"] is True
    assert admin.delete(f"/api/v1/admin/domain_blocks/{block['id']}").json() == {}
    assert admin.get(f"/api/v1/admin/domain_blocks/{block['id']}").status_code == 404
    assert admin.delete(f"/api/v1/admin/domain_blocks/{block['id']}").status_code == 404
    actions = _actions(roost)
    for action in ("domain_block.create", "domain_block.update", "domain_block.destroy"):
        assert action in actions

    async def intact() -> bool:
        async with roost.db.read() as conn:
            return (await verify(conn)).intact

    assert roost.run(intact)


def test_given_a_block_on_a_domain_when_a_weaker_or_same_block_is_asked_then_422_names_it(
    roost: Roost,
) -> None:
    admin = _admin(roost)
    admin.post("/api/v1/admin/domain_blocks", data={"domain": "example.net", "severity": "suspend"})

    again = admin.post("/api/v1/admin/domain_blocks", data={"domain": "example.net"})
    weaker = admin.post(
        "/api/v1/admin/domain_blocks", data={"domain": "social.example.net", "severity": "silence"}
    )

    assert again.status_code == 422 and weaker.status_code == 422
    assert weaker.json() == {"error": "You have already imposed stricter limits on example.net."}


def test_given_a_silence_when_a_stricter_subdomain_block_is_asked_then_it_is_made(
    roost: Roost,
) -> None:
    admin = _admin(roost)
    admin.post("/api/v1/admin/domain_blocks", data={"domain": "example.org"})

    stricter = admin.post(
        "/api/v1/admin/domain_blocks", data={"domain": "bad.example.org", "severity": "suspend"}
    )

    assert stricter.status_code == 200, stricter.text

    async def policies() -> tuple[str | None, str | None, bool]:
        async with roost.db.read() as conn:
            deep = await domain_policy(conn, "a.bad.example.org")
            other = await domain_policy(conn, "fine.example.org")
            unrelated = await domain_policy(conn, "notexample.org")
        return (
            deep.block.severity if deep.block else None,
            other.block.severity if other.block else None,
            unrelated.block is None and not unrelated.suspended,
        )

    assert roost.run(policies) == ("suspend", "silence", True)


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({}, "Domain can't be blank"),
        ({"domain": "example.com", "severity": "obliterate"}, "Severity must be one of"),
        ({"domain": "not a domain"}, "is not a domain name"),
    ],
)
def test_given_a_bad_block_when_asked_then_422_says_why(
    roost: Roost, fields: dict[str, str], says: str
) -> None:
    answer = _admin(roost).post("/api/v1/admin/domain_blocks", data=fields)

    assert answer.status_code == 422
    assert says in answer.json()["error"]


def test_given_blocks_when_anyone_reads_the_public_list_then_noop_is_hidden_and_obfuscation_holds(
    roost: Roost,
) -> None:
    admin = _admin(roost)
    for fields in (
        {"domain": "loud.example", "severity": "silence", "public_comment": "too loud"},
        {"domain": "verybad.example", "severity": "suspend", "obfuscate": "true"},
        {"domain": "quiet.example", "severity": "noop", "reject_media": "true"},
    ):
        assert admin.post("/api/v1/admin/domain_blocks", data=fields).status_code == 200

    shown = roost.client.get("/api/v1/instance/domain_blocks").json()

    assert [b["severity"] for b in shown] == ["suspend", "silence"]
    # Mastodon's obfuscation: the middle half starred, dots kept.
    assert shown[0]["domain"] == "very***.****ple"
    assert shown[1] == {
        "domain": "loud.example",
        "digest": shown[1]["digest"],
        "severity": "silence",
        "comment": "too loud",
    }


@pytest.mark.settings(show_domain_blocks="users")
def test_given_the_list_shown_to_users_only_when_nobody_signed_in_asks_then_401(
    roost: Roost,
) -> None:
    _admin(roost).post("/api/v1/admin/domain_blocks", data={"domain": "loud.example"})
    someone = roost.account("someone")

    assert roost.client.get("/api/v1/instance/domain_blocks").status_code == 401
    assert [b["domain"] for b in someone.get("/api/v1/instance/domain_blocks").json()] == [
        "loud.example"
    ]


@pytest.mark.settings(show_domain_blocks="disabled")
def test_given_the_list_disabled_when_asked_then_404(roost: Roost) -> None:
    assert roost.client.get("/api/v1/instance/domain_blocks").status_code == 404


def test_given_federation_staff_when_they_allow_a_domain_then_it_is_listed_and_policy_says_so(
    roost: Roost,
) -> None:
    admin = _admin(roost)

    made = admin.post("/api/v1/admin/domain_allows", data={"domain": "Friends.Example"})
    again = admin.post("/api/v1/admin/domain_allows", data={"domain": "friends.example"})

    assert made.status_code == 200 and again.json() == made.json()
    allow = made.json()
    assert allow["domain"] == "friends.example"
    assert [a["id"] for a in admin.get("/api/v1/admin/domain_allows").json()] == [allow["id"]]
    assert admin.get(f"/api/v1/admin/domain_allows/{allow['id']}").json() == allow

    async def allowed() -> bool:
        async with roost.db.read() as conn:
            return (await domain_policy(conn, "m.friends.example")).allowed

    assert roost.run(allowed)
    assert admin.delete(f"/api/v1/admin/domain_allows/{allow['id']}").json() == {}
    assert not roost.run(allowed)
    assert {"domain_allow.create", "domain_allow.destroy"} <= set(_actions(roost))


def test_given_staff_without_manage_federation_when_they_block_then_403(roost: Roost) -> None:
    moderator = staff_with(roost, "blocker", int(Permission.MANAGE_BLOCKS))

    answer = moderator.post("/api/v1/admin/domain_blocks", data={"domain": "x.example"})

    assert answer.status_code == 403
