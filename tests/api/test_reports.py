"""Reports: filed by anyone about what they can see, kept as it was reported,
handled by staff with manage_reports, each staff step in the audit log, and
the reporter told by mail when it is closed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from roost.app import create_app
from roost.config import Settings
from roost.domain.audit.chain import entries, verify
from roost.domain.instance.rules import do_add_rule
from tests.api.staff_support import ADMIN_SCOPES, grant
from tests.conftest import Roost, User
from tests.web.support import Mailbox, start_mailbox


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box, controller = start_mailbox()
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def mailing(settings: Settings, mailbox: Mailbox) -> Iterator[Roost]:
    changed = settings.model_copy(update={"run_jobs_in_process": False, "smtp_url": mailbox.url})
    with TestClient(create_app(changed)) as client:
        yield Roost(client, changed)


def _rule(roost: Roost, text: str) -> str:
    async def add() -> str:
        async with roost.db.write() as tx:
            return str((await do_add_rule(tx, text)).id)

    return roost.run(add)


def _moderator(roost: Roost, name: str = "mod") -> User:
    mod = roost.account(name, scopes=ADMIN_SCOPES)
    grant(roost, mod, "Moderator")
    return mod


def _report(user: User, target: User, **fields: Any) -> Any:
    return user.post("/api/v1/reports", data={"account_id": target.id, **fields})


def test_given_a_post_when_it_is_reported_then_the_report_answers_as_mastodons(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    rule = _rule(roost, "No spam")
    post = bob.post_status("buy cheap things")

    answer = _report(
        alice,
        bob,
        **{"status_ids[]": [post["id"]], "comment": "spam again", "rule_ids[]": [rule]},
    )

    assert answer.status_code == 200, answer.text
    shown = answer.json()
    assert shown["category"] == "violation"  # rules named, no category: a violation
    assert shown["status_ids"] == [post["id"]] and shown["rule_ids"] == [rule]
    assert shown["comment"] == "spam again" and shown["action_taken"] is False
    assert shown["forwarded"] is False and shown["target_account"]["id"] == bob.id


@pytest.mark.parametrize(
    ("fields", "status", "says"),
    [
        ({"category": "violation"}, 422, "rule_ids"),
        ({"category": "violation", "rule_ids[]": ["12345"]}, 422, "no such rule"),
        ({"category": "gossip"}, 422, "category"),
        ({"comment": "x" * 1001}, 422, "1000"),
    ],
)
def test_given_a_bad_report_when_filed_then_it_is_refused_with_the_reason(
    roost: Roost, fields: dict[str, Any], status: int, says: str
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")

    answer = _report(alice, bob, **fields)

    assert answer.status_code == status and says in answer.json()["error"], answer.text


def test_given_posts_the_reporter_cannot_see_or_of_another_account_then_404(
    roost: Roost,
) -> None:
    alice, bob, carol = (roost.account(n) for n in ("alice", "bob", "carol"))
    hidden = bob.post_status("for followers", visibility="private")
    carols = carol.post_status("mine")

    for post in (hidden, carols):
        answer = _report(alice, bob, **{"status_ids[]": [post["id"]], "category": "spam"})
        assert answer.status_code == 404, answer.text
    assert _report(alice, alice).status_code == 422


def test_given_a_report_when_the_post_is_deleted_then_staff_still_see_it_as_reported(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    mod = _moderator(roost)
    post = bob.post_status("something awful", spoiler_text="cw")
    filed = _report(alice, bob, **{"status_ids[]": [post["id"]], "category": "other"}).json()
    assert bob.delete(f"/api/v1/statuses/{post['id']}").status_code == 200
    roost.drain_jobs()

    shown = mod.get(f"/api/v1/admin/reports/{filed['id']}")

    assert shown.status_code == 200, shown.text
    report = shown.json()
    assert [s["id"] for s in report["statuses"]] == [post["id"]]
    assert "something awful" in report["statuses"][0]["content"]
    assert report["statuses"][0]["spoiler_text"] == "cw"
    assert report["account"]["id"] == alice.id and report["target_account"]["id"] == bob.id


def test_given_reports_when_staff_handle_them_then_each_step_answers_and_is_audited(
    mailing: Roost, mailbox: Mailbox
) -> None:
    roost = mailing
    alice, bob, carol = (roost.account(n) for n in ("alice", "bob", "carol"))
    mod = _moderator(roost)
    rule = _rule(roost, "Be kind")
    first = _report(alice, bob, category="spam").json()
    second = _report(carol, bob, category="other").json()
    base = "/api/v1/admin/reports"

    listed = mod.get(base).json()
    assert [r["id"] for r in listed] == [second["id"], first["id"]]
    assert [r["id"] for r in mod.get(base, params={"account_id": alice.id}).json()] == [first["id"]]
    assigned = mod.post(f"{base}/{first['id']}/assign_to_self").json()
    assert assigned["assigned_account"]["id"] == mod.id
    assert mod.post(f"{base}/{first['id']}/unassign").json()["assigned_account"] is None
    updated = mod.put(f"{base}/{first['id']}", data={"category": "violation", "rule_ids[]": [rule]})
    assert updated.status_code == 200, updated.text
    assert updated.json()["category"] == "violation"
    assert [r["id"] for r in updated.json()["rules"]] == [rule]
    resolved = mod.post(f"{base}/{first['id']}/resolve").json()
    assert resolved["action_taken"] is True
    assert resolved["action_taken_by_account"]["id"] == mod.id
    assert [r["id"] for r in mod.get(base).json()] == [second["id"]]
    assert [r["id"] for r in mod.get(base, params={"resolved": "true"}).json()] == [first["id"]]

    roost.drain_jobs()
    (mail,) = mailbox.wait_for(1)
    assert mail["To"] == "alice@example.org"
    body = mail.get_payload(decode=True)
    assert isinstance(body, bytes) and b"@bob" in body and "reviewed" in mail["Subject"]

    reopened = mod.post(f"{base}/{second['id']}/reopen")
    assert reopened.status_code == 200

    async def audit() -> tuple[list[str], bool]:
        async with roost.db.read() as conn:
            found = await entries(conn, limit=100)
            return [e.action for e in reversed(found)], (await verify(conn)).intact

    actions, intact = roost.run(audit)
    assert actions == [
        "role.grant",
        "report.assign",
        "report.unassign",
        "report.update",
        "report.resolve",
        "report.reopen",
    ]
    assert intact


def test_given_a_role_without_manage_reports_then_reports_are_not_shown(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    filed = _report(alice, bob, category="spam").json()
    plain = roost.account("plain", scopes=ADMIN_SCOPES)
    assert plain.get(f"/api/v1/admin/reports/{filed['id']}").status_code == 403
    assert alice.get(f"/api/v1/admin/reports/{filed['id']}").status_code == 403


def test_given_reports_when_their_people_are_erased_then_nothing_of_them_remains(
    roost: Roost,
) -> None:
    from roost.erasure.erase import erase_account
    from roost.services import Services

    alice, bob, carol, dave = (roost.account(n) for n in ("alice", "bob", "carol", "dave"))
    mod = _moderator(roost)
    post = bob.post_status("reported words")
    about_bob = _report(alice, bob, **{"status_ids[]": [post["id"]], "category": "spam"}).json()
    by_carol = _report(carol, alice, category="other", comment="carol's own words").json()
    about_dave = _report(alice, dave, category="spam").json()
    mod.post(f"/api/v1/admin/reports/{about_dave['id']}/assign_to_self")
    services: Services = roost.client.app.state.services  # type: ignore[attr-defined]

    for gone in (bob, carol, mod):
        receipt = roost.run(lambda gone=gone: erase_account(services, int(gone.id)))  # type: ignore[misc]
        assert receipt.clean, receipt.as_dict()

    staff = roost.account("staff2", scopes=ADMIN_SCOPES)
    grant(roost, staff, "Moderator")
    assert staff.get(f"/api/v1/admin/reports/{about_bob['id']}").status_code == 404
    assert staff.get(f"/api/v1/admin/reports/{by_carol['id']}").status_code == 404
    # A report others made stays; the erased moderator's name on it goes.
    (kept,) = staff.get("/api/v1/admin/reports").json()
    assert kept["id"] == about_dave["id"] and kept["assigned_account"] is None


def test_given_a_new_report_then_staff_who_handle_reports_are_notified_and_no_one_else(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    mod = _moderator(roost)
    owner = roost.account("owner", admin=True)
    helper = roost.account("helper", scopes=ADMIN_SCOPES)
    from tests.api.staff_support import make_role

    make_role(roost, "Emoji keeper", 0x4000)
    grant(roost, helper, "Emoji keeper")

    filed = _report(alice, bob, category="spam", comment="look").json()
    roost.drain_jobs()

    for staff in (mod, owner):
        (note,) = staff.get("/api/v1/notifications").json()
        assert note["type"] == "admin.report" and note["account"]["id"] == alice.id
        assert note["report"]["id"] == filed["id"] and note["report"]["category"] == "spam"
        assert note["report"]["target_account"]["id"] == bob.id
    for other in (alice, bob, helper):
        assert other.get("/api/v1/notifications").json() == []
    # A moderator who loses the role no longer sees them.
    from roost.domain.audit.chain import CONSOLE
    from roost.domain.roles.actions import do_revoke_role

    async def revoke() -> None:
        async with roost.db.write() as tx:
            await do_revoke_role(tx, account_id=int(mod.id), by=CONSOLE)

    roost.run(revoke)
    assert mod.get("/api/v1/notifications").json() == []


@pytest.fixture
def limited(settings: Settings) -> Iterator[Roost]:
    changed = settings.model_copy(
        update={"run_jobs_in_process": False, "moderation_daily_limit": 2}
    )
    with TestClient(create_app(changed)) as client:
        yield Roost(client, changed)


def test_given_the_daily_limit_reached_when_assigning_through_the_api_then_422(
    limited: Roost,
) -> None:
    from sqlalchemy import select

    from roost.db.tables import reports
    from tests.web.support_app import signed_in_browser

    roost = limited
    alice, bob = roost.account("alice"), roost.account("bob")
    mod = _moderator(roost)
    first, second, third = (_report(alice, bob, category="spam").json() for _ in range(3))
    base = "/api/v1/admin/reports"
    # Below the limit the API assigns as the queue does.
    assert mod.post(f"{base}/{first['id']}/assign_to_self").status_code == 200

    browser = signed_in_browser(roost, mod)
    for seen in (first, second):  # two reports read in the queue: the limit
        assert browser.get(f"/admin/queue/{seen['id']}").status_code == 200

    refused = mod.post(f"{base}/{third['id']}/assign_to_self")
    assert refused.status_code == 422, refused.text
    assert "Take a break" in refused.json()["error"]

    async def assigned() -> dict[str, int | None]:
        async with roost.db.read() as conn:
            rows = await conn.execute(select(reports.c.id, reports.c.assigned_account_id))
            return {str(r.id): r.assigned_account_id for r in rows}

    held = roost.run(assigned)
    assert held[third["id"]] is None and held[first["id"]] == int(mod.id)
    # The report already held stays the moderator's to finish.
    assert mod.post(f"{base}/{first['id']}/assign_to_self").status_code == 200
    assert mod.post(f"{base}/{first['id']}/resolve").status_code == 200


def test_given_reports_read_through_the_admin_api_then_they_count_toward_the_daily_limit(
    limited: Roost,
) -> None:
    # Given a daily limit of two and three reports
    roost = limited
    alice, bob = roost.account("alice"), roost.account("bob")
    mod = _moderator(roost)
    first, second, third = (_report(alice, bob, category="spam").json() for _ in range(3))
    base = "/api/v1/admin/reports"
    # When the moderator lists them (not counted), then opens two through the
    # API, one of them twice (counted once a day)
    assert mod.get(base).status_code == 200
    for seen in (first, second, first):
        assert mod.get(f"{base}/{seen['id']}").status_code == 200
    # Then the limit is reached: the API assigns nothing more
    refused = mod.post(f"{base}/{third['id']}/assign_to_self")
    assert refused.status_code == 422, refused.text
    assert "Take a break" in refused.json()["error"]
