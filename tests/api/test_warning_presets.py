"""Warning presets: kept by staff with ``manage_settings`` on the staff page
(and ``roost warning-presets``, tests/cli), each change audited; picked by id
in the admin API's account action, where the preset's text comes before the
typed one in the warning the person reads, as on Mastodon."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from roost.db.tables import warning_presets
from roost.domain.audit.chain import Entry, entries, verify
from roost.domain.roles.permissions import Permission
from tests.api.staff_support import everything_but, staff_with
from tests.api.test_admin_accounts import act, shown, warnings_of
from tests.conftest import Roost
from tests.web.support import Browser
from tests.web.support_app import post_form, signed_in_browser, token_of

PAGE = "/admin/warning-presets"


def _presets(roost: Roost) -> list[Any]:
    async def read() -> list[Any]:
        async with roost.db.read() as conn:
            return list((await conn.execute(select(warning_presets))).all())

    return roost.run(read)


def _audit(roost: Roost) -> list[Entry]:
    async def read() -> list[Entry]:
        async with roost.db.read() as conn:
            return await entries(conn, limit=100)

    return roost.run(read)


def _staff(roost: Roost, name: str, permissions: int) -> tuple[Any, Browser]:
    user = staff_with(roost, name, permissions)
    return user, signed_in_browser(roost, user)


def _made_on_the_web(browser: Browser, title: str, text: str) -> None:
    token = token_of(browser, PAGE)
    added = post_form(browser, PAGE, token, title=title, text=text)
    assert added.status_code == 303, added.text[:300]
    listed = browser.get(added.headers["location"]).text
    assert "The warning preset was added." in listed and text in listed


def test_given_a_preset_when_staff_act_with_it_and_a_text_then_the_warning_holds_both(
    roost: Roost,
) -> None:
    settings_and_users = int(Permission.MANAGE_SETTINGS | Permission.MANAGE_USERS)
    moderator, browser = _staff(roost, "mod", settings_and_users)
    _made_on_the_web(browser, "Civil", "Please keep it civil.")
    [preset] = _presets(roost)
    alice, bob = roost.account("alice"), roost.account("bob")

    with_both = act(moderator, alice, "silence", warning_preset_id=str(preset.id), text="Day 3.")
    preset_only = act(moderator, bob, "none", warning_preset_id=str(preset.id))

    assert with_both.status_code == 200 and preset_only.status_code == 200, with_both.text
    [warned] = warnings_of(alice)
    assert warned["action"] == "silence"
    assert warned["text"] == "Please keep it civil.\n\nDay 3."
    assert [w["text"] for w in warnings_of(bob)] == ["Please keep it civil."]
    assert shown(moderator, alice)["silenced"] is True

    creation = next(e for e in _audit(roost) if e.action == "warning_preset.create")
    assert (creation.permission, creation.subject_id) == ("manage_settings", str(preset.id))
    assert creation.personal == {"title": "Civil", "text": "Please keep it civil."}
    assert creation.details["via"] == "web"


def test_given_an_unknown_preset_when_staff_act_then_404_and_nothing_happens(
    roost: Roost,
) -> None:
    moderator = staff_with(roost, "mod", int(Permission.MANAGE_USERS | Permission.MANAGE_REPORTS))
    alice, bob = roost.account("alice"), roost.account("bob")
    post = alice.post_status("rude words")
    filed = bob.post("/api/v1/reports", json={"account_id": alice.id, "status_ids": [post["id"]]})
    assert filed.status_code == 200, filed.text

    refused = act(
        moderator, alice, "silence", warning_preset_id="123456", report_id=filed.json()["id"]
    )

    assert refused.status_code == 404 and refused.json() == {"error": "Record not found"}
    assert shown(moderator, alice)["silenced"] is False
    assert warnings_of(alice) == []
    report = moderator.get(f"/api/v1/admin/reports/{filed.json()['id']}").json()
    assert report["action_taken"] is False  # the action's transaction did not happen


def test_given_presets_on_the_web_then_manage_settings_keeps_them_and_removal_is_audited(
    roost: Roost,
) -> None:
    _, lacking = _staff(roost, "lacking", everything_but(Permission.MANAGE_SETTINGS))
    assert lacking.get(PAGE).status_code == 403
    token = token_of(lacking, "/admin")
    assert post_form(lacking, PAGE, token, title="x", text="y").status_code == 403
    assert _presets(roost) == []

    _, browser = _staff(roost, "keeper", int(Permission.MANAGE_SETTINGS))
    token = token_of(browser, PAGE)
    empty = post_form(browser, PAGE, token, title="Blank", text="  ")
    assert empty.status_code == 422 and "needs its text" in empty.text
    _made_on_the_web(browser, "Spam", "Your account posted spam.")
    [preset] = _presets(roost)
    assert post_form(browser, f"{PAGE}/{preset.id}/delete", "wrong").status_code == 403
    removed = post_form(browser, f"{PAGE}/{preset.id}/delete", token)
    assert removed.status_code == 303 and _presets(roost) == []
    assert post_form(browser, f"{PAGE}/{preset.id}/delete", token).status_code == 404

    removal = _audit(roost)[0]
    assert (removal.action, removal.subject_id) == ("warning_preset.remove", str(preset.id))

    async def intact() -> bool:
        async with roost.db.read() as conn:
            return (await verify(conn)).intact

    assert roost.run(intact)
