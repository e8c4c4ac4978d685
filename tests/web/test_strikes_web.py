"""Strikes on the web (/settings/strikes): the person reads each decision and
appeals it once; staff with manage_appeals decide, and accepting undoes the
action. A disabled login keeps no browser session."""

from __future__ import annotations

import re
from typing import Any

import pytest

from roost.domain.strikes import actions
from roost.domain.types import Viewer
from roost.errors import Forbidden, RuleBroken
from tests.api.staff_support import grant
from tests.api.test_admin import ADMIN_SCOPES, staff
from tests.conftest import Roost, User
from tests.web.support_app import post_form, signed_in_browser, token_of


def act(admin: User, target: User, kind: str, text: str = "") -> None:
    answer = admin.post(
        f"/api/v1/admin/accounts/{target.id}/action", data={"type": kind, "text": text}
    )
    assert answer.status_code == 200, answer.text


def strike_ids(html: str) -> list[str]:
    return re.findall(r'href="/settings/strikes/(\d+)"', html)


def decide(roost: Roost, by: Viewer | None, appeal_id: int, accept: bool) -> Any:
    async def body() -> Any:
        async with roost.db.write() as tx:
            return await actions.do_decide_appeal(tx, by, appeal_id, accept=accept)

    return roost.run(body)


def appeal_id_of(roost: Roost) -> int:
    from roost.domain.strikes.queries import appeals_to_decide

    async def body() -> int:
        async with roost.db.read() as conn:
            waiting = await appeals_to_decide(conn, None)
        assert len(waiting) == 1 and waiting[0].appeal is not None
        return waiting[0].appeal.id

    return roost.run(body)


def test_given_a_strike_when_the_person_appeals_on_the_web_and_staff_accept_then_it_is_undone(
    roost: Roost,
) -> None:
    alice, bob, admin = roost.account("alice"), roost.account("bob"), staff(roost)
    act(admin, alice, "silence", "Please stop <b>spamming</b>")
    act(admin, bob, "sensitive", "Not yours to see")
    browser = signed_in_browser(roost, alice)

    listed = browser.get("/settings/strikes")
    (strike_id,) = strike_ids(listed.text)
    page = browser.get(f"/settings/strikes/{strike_id}")
    assert page.status_code == 200
    assert "Please stop &lt;b&gt;spamming&lt;/b&gt;" in page.text  # escaped, never markup
    assert "Not yours to see" not in page.text
    token = token_of(browser, f"/settings/strikes/{strike_id}")
    # Someone else's strike is not found, to read or to appeal.
    bobs = signed_in_browser(roost, bob)
    (bob_strike,) = strike_ids(bobs.get("/settings/strikes").text)
    assert browser.get(f"/settings/strikes/{bob_strike}").status_code == 404
    stolen = post_form(browser, f"/settings/strikes/{bob_strike}/appeal", token, text="mine")
    assert stolen.status_code == 404
    # Without the CSRF token, nothing is sent.
    forged = browser.post(f"/settings/strikes/{strike_id}/appeal", data={"text": "x"})
    assert forged.status_code == 403
    blank = post_form(browser, f"/settings/strikes/{strike_id}/appeal", token, text="  ")
    assert blank.status_code == 422 and "blank" in blank.text

    sent = post_form(browser, f"/settings/strikes/{strike_id}/appeal", token, text="I sell eggs")
    assert sent.status_code == 303
    again = post_form(browser, f"/settings/strikes/{strike_id}/appeal", token, text="Again")
    assert again.status_code == 422 and "already appealed" in again.text
    shown = browser.get(f"/settings/strikes/{strike_id}").text
    assert "I sell eggs" in shown and "Awaiting a decision" in shown
    notified = alice.get("/api/v1/notifications").json()[0]["moderation_warning"]
    assert notified["appeal"] == {"text": "I sell eggs", "state": "pending"}

    appeal_id = appeal_id_of(roost)
    moderator = roost.account("mod", scopes=ADMIN_SCOPES)
    grant(roost, moderator, "Moderator")  # manage_users, not manage_appeals
    mod_viewer = Viewer(account_id=int(moderator.id), permissions=0x4 | 0x8 | 0x10 | 0x400)
    with pytest.raises(Forbidden):
        decide(roost, mod_viewer, appeal_id, True)
    decided = decide(roost, None, appeal_id, True)

    assert decided.overruled_at is not None
    assert admin.get(f"/api/v1/admin/accounts/{alice.id}").json()["silenced"] is False
    shown = browser.get(f"/settings/strikes/{strike_id}").text
    assert "overruled on appeal" in shown and "Accepted" in shown
    with pytest.raises(RuleBroken):
        decide(roost, None, appeal_id, False)


def test_given_a_suspension_appealed_when_staff_reject_then_it_stands_and_accept_lifts_another(
    roost: Roost,
) -> None:
    alice, admin = roost.account("alice"), staff(roost)
    act(admin, alice, "disable", "A break")
    browser = signed_in_browser(roost, alice)
    # A disabled login keeps no browser session.
    assert browser.get("/settings/strikes", follow_redirects=False).status_code in (302, 303)
    assert admin.post(f"/api/v1/admin/accounts/{alice.id}/enable").status_code == 200
    browser = signed_in_browser(roost, alice)
    (strike_id,) = strike_ids(browser.get("/settings/strikes").text)
    token = token_of(browser, "/settings/strikes")
    post_form(browser, f"/settings/strikes/{strike_id}/appeal", token, text="I was away")

    decided = decide(roost, None, appeal_id_of_any(roost), False)

    assert decided.overruled_at is None and decided.appeal.state == "rejected"
    assert "Rejected" in browser.get(f"/settings/strikes/{strike_id}").text


def appeal_id_of_any(roost: Roost) -> int:
    from roost.domain.strikes.queries import appeals_to_decide

    async def body() -> int:
        async with roost.db.read() as conn:
            every = await appeals_to_decide(conn, None, every=True)
        assert every[-1].appeal is not None
        return every[-1].appeal.id

    return roost.run(body)


def test_given_a_suspension_with_a_strike_when_the_appeal_is_accepted_then_it_is_lifted(
    roost: Roost,
) -> None:
    alice, admin = roost.account("alice"), staff(roost)
    act(admin, alice, "suspend", "Spam")

    async def appeal_as_alice() -> int:
        from roost.domain.strikes.queries import own_warnings

        me = Viewer(account_id=int(alice.id))
        async with roost.db.write() as tx:
            (strike,) = await own_warnings(tx.conn, me)
            return await actions.do_appeal(tx, me, strike.id, "It was a mistake")

    appeal_id = roost.run(appeal_as_alice)
    decide(roost, None, appeal_id, True)

    assert roost.client.get(f"/api/v1/accounts/{alice.id}").status_code == 200
    assert alice.get("/api/v1/accounts/verify_credentials").status_code == 200


def test_given_an_appeal_when_staff_decide_on_the_appeals_page_then_only_manage_appeals_may(
    roost: Roost,
) -> None:
    alice, admin = roost.account("alice"), staff(roost)
    act(admin, alice, "silence", "Too many ads")
    person = signed_in_browser(roost, alice)
    (strike_id,) = strike_ids(person.get("/settings/strikes").text)
    token = token_of(person, "/settings/strikes")
    post_form(person, f"/settings/strikes/{strike_id}/appeal", token, text="My own shop")
    appeal_id = appeal_id_of(roost)
    moderator = roost.account("mod", scopes=ADMIN_SCOPES)
    grant(roost, moderator, "Moderator")
    mod_browser = signed_in_browser(roost, moderator)
    assert mod_browser.get("/admin/appeals").status_code == 403
    mod_token = token_of(mod_browser, "/home")
    refused = post_form(mod_browser, f"/admin/appeals/{appeal_id}/accept", mod_token)
    assert refused.status_code == 403

    browser = signed_in_browser(roost, admin)
    page = browser.get("/admin/appeals")
    assert page.status_code == 200
    assert "@alice" in page.text and "Too many ads" in page.text and "My own shop" in page.text
    staff_token = token_of(browser, "/admin/appeals")
    forged = browser.post(f"/admin/appeals/{appeal_id}/accept", data={})
    assert forged.status_code == 403
    accepted = post_form(browser, f"/admin/appeals/{appeal_id}/accept", staff_token)

    assert accepted.status_code == 303
    assert admin.get(f"/api/v1/admin/accounts/{alice.id}").json()["silenced"] is False
    assert "No appeal awaits a decision" in browser.get("/admin/appeals").text
    assert "Appeal approved" in browser.get("/admin/appeals?all=1").text
    again = post_form(browser, f"/admin/appeals/{appeal_id}/reject", staff_token)
    assert again.status_code == 422 and "already decided" in again.text
    audit = [e.action for e in roost.run(lambda: _entries(roost))]
    assert "appeal.approve" in audit and "account.unsilence" in audit


async def _entries(roost: Roost) -> list[Any]:
    from roost.domain.audit.chain import entries

    async with roost.db.read() as conn:
        return await entries(conn)
