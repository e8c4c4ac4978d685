"""The staff area (/admin): each page and each form behind it needs one
permission of the signed-in account's role, the one the admin API and the
command line ask for; a visitor is sent to sign in, an account whose role
lacks it gets the 403 page, a form without its CSRF token changes nothing,
and each action is the domain's own, with its entry in the audit log."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update

from roost.db.tables import announcements, custom_emojis, instance_rules, jobs
from roost.domain.audit.chain import Entry, entries, verify
from roost.domain.notifications.jobs import Notify
from roost.domain.roles.permissions import Permission
from roost.jobs.outbox import enqueue
from roost.routes import WEB_ROUTERS
from roost.web.pages.staff import STAFF_PAGES
from tests.api.staff_support import everything_but, staff_with
from tests.conftest import Roost
from tests.media import samples
from tests.web.support import Browser
from tests.web.support_app import post_form, signed_in_browser, token_of

P = Permission

# Every staff route, whichever module of the staff area declares it.
STAFF_ROUTES = [
    route
    for web_router in WEB_ROUTERS
    for route in web_router.routes
    if getattr(route, "path", "").startswith("/admin")
]


def _staff(roost: Roost, name: str, permissions: int) -> Browser:
    return signed_in_browser(roost, staff_with(roost, name, permissions))


def _audit(roost: Roost) -> list[Entry]:
    async def read() -> list[Entry]:
        async with roost.db.read() as conn:
            return await entries(conn, limit=100)

    return roost.run(read)


def _rows(roost: Roost, table: Any) -> list[Any]:
    async def read() -> list[Any]:
        async with roost.db.read() as conn:
            return list((await conn.execute(select(table))).all())

    return roost.run(read)


def _chain_intact(roost: Roost) -> bool:
    async def check() -> bool:
        async with roost.db.read() as conn:
            return (await verify(conn)).intact

    return roost.run(check)


@pytest.mark.parametrize("page", STAFF_PAGES, ids=[p.path for p in STAFF_PAGES])
def test_given_each_staff_page_then_only_a_role_granting_its_permission_opens_it(
    roost: Roost, page: Any
) -> None:
    anonymous = Browser(roost.client).get(page.path, follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/auth/sign_in?next=")

    lacking = _staff(roost, "lacking", everything_but(page.permission))
    refused = lacking.get(page.path)
    assert refused.status_code == 403
    assert "Not allowed" in refused.text and page.permission.name.lower() in refused.text

    holder = _staff(roost, "holder", int(page.permission))
    shown = holder.get(page.path)
    assert shown.status_code == 200, shown.text[:400]
    assert f"<h1>{page.title}</h1>" in shown.text
    assert "script-src 'self'" in shown.headers["content-security-policy"]
    assert shown.headers["cache-control"] == "private, no-store"


def test_given_every_staff_route_then_each_names_one_permission_but_the_home() -> None:
    unnamed = []
    for route in STAFF_ROUTES:
        path = getattr(route, "path", "")
        named = [
            getattr(d.call, "roost_permission", None)
            for d in getattr(route, "dependant").dependencies  # noqa: B009
        ]
        if path != "/admin" and not any(named):
            unnamed.append(path)
    assert unnamed == []


def test_given_the_staff_home_then_it_lists_what_the_role_opens_and_refuses_non_staff(
    roost: Roost,
) -> None:
    assert Browser(roost.client).get("/admin", follow_redirects=False).status_code == 303
    member = signed_in_browser(roost, roost.account("member"))
    assert member.get("/admin").status_code == 403
    assert 'href="/admin"' not in member.get("/home").text

    devops = _staff(roost, "ops", int(P.DEVOPS))
    home = devops.get("/admin")
    assert home.status_code == 200
    assert 'href="/admin/jobs"' in home.text and 'href="/admin/doctor"' in home.text
    assert 'href="/admin/rules"' not in home.text and 'href="/admin/emoji"' not in home.text
    assert 'href="/admin"' in devops.get("/home").text

    owner = _staff(roost, "boss", int(P.ADMINISTRATOR))
    listed = owner.get("/admin").text
    assert all(f'href="{page.path}"' in listed for page in STAFF_PAGES)


def test_given_the_settings_page_then_it_shows_the_environment_read_only(roost: Roost) -> None:
    browser = _staff(roost, "settings", int(P.MANAGE_SETTINGS))
    page = browser.get("/admin/settings").text
    assert roost.settings.instance_title in page and "ROOST_REGISTRATIONS" in page
    assert str(roost.settings.registrations) in page
    assert "cannot be changed here" in page and "<form" not in page.split("</header>")[1]


def test_given_rules_added_and_removed_on_the_web_then_each_is_audited(roost: Roost) -> None:
    browser = _staff(roost, "rules", int(P.MANAGE_RULES))
    token = token_of(browser, "/admin/rules")

    forged = post_form(browser, "/admin/rules", "wrong", text="No spam")
    assert forged.status_code == 403 and _rows(roost, instance_rules) == []

    added = post_form(browser, "/admin/rules", token, text="No spam", hint="Ads included")
    assert added.status_code == 303 and added.headers["location"].startswith("/admin/rules")
    [rule] = _rows(roost, instance_rules)
    assert rule.text == "No spam" and rule.hint == "Ads included"
    assert "No spam" in roost.client.get("/about").text
    assert "The rule was added." in browser.get(added.headers["location"]).text

    empty = post_form(browser, "/admin/rules", token, text="  ")
    assert empty.status_code == 422 and "needs its text" in empty.text

    assert post_form(browser, f"/admin/rules/{rule.id}/delete", "").status_code == 403
    assert len(_rows(roost, instance_rules)) == 1
    removed = post_form(browser, f"/admin/rules/{rule.id}/delete", token)
    assert removed.status_code == 303 and _rows(roost, instance_rules) == []

    removal, creation = _audit(roost)[:2]
    assert (creation.action, creation.permission, creation.subject_id) == (
        "rule.create",
        "manage_rules",
        str(rule.id),
    )
    assert creation.personal == {"text": "No spam", "hint": "Ads included"}
    assert creation.details["via"] == "web"
    assert removal.action == "rule.remove" and removal.subject_id == str(rule.id)
    assert _chain_intact(roost)


def test_given_an_announcement_published_edited_and_deleted_then_apps_see_it_and_it_is_audited(
    roost: Roost,
) -> None:
    staff = staff_with(roost, "news", int(P.MANAGE_ANNOUNCEMENTS))
    browser = signed_in_browser(roost, staff)
    token = token_of(browser, "/admin/announcements")

    forged = post_form(browser, "/admin/announcements", "", text="Hello")
    assert forged.status_code == 403 and _rows(roost, announcements) == []

    made = post_form(browser, "/admin/announcements", token, text="Maintenance tonight")
    assert made.status_code == 303
    [row] = _rows(roost, announcements)
    seen = staff.get("/api/v1/announcements").json()
    assert [a["id"] for a in seen] == [str(row.id)]
    assert "Maintenance tonight" in seen[0]["content"]

    wrong = post_form(
        browser,
        f"/admin/announcements/{row.id}/edit",
        token,
        text="Later",
        starts_at="2030-01-02T10:00",
        ends_at="2030-01-01T10:00",
    )
    assert wrong.status_code == 422 and "start before it ends" in wrong.text
    assert "Maintenance tonight" in staff.get("/api/v1/announcements").json()[0]["content"]

    edit_page = browser.get(f"/admin/announcements/{row.id}/edit")
    assert edit_page.status_code == 200 and "Maintenance tonight</textarea>" in edit_page.text
    forged_edit = post_form(browser, f"/admin/announcements/{row.id}/edit", "x", text="Hacked")
    assert forged_edit.status_code == 403
    saved = post_form(
        browser, f"/admin/announcements/{row.id}/edit", token, text="Maintenance at ten"
    )
    assert saved.status_code == 303
    entity = staff.get("/api/v1/announcements").json()[0]
    assert "Maintenance at ten" in entity["content"]
    assert entity["updated_at"] >= entity["published_at"]

    assert post_form(browser, f"/admin/announcements/{row.id}/delete", "").status_code == 403
    assert len(_rows(roost, announcements)) == 1
    gone = post_form(browser, f"/admin/announcements/{row.id}/delete", token)
    assert gone.status_code == 303 and _rows(roost, announcements) == []
    assert staff.get("/api/v1/announcements").json() == []

    actions = [(e.action, e.permission, e.subject_id) for e in _audit(roost)[:3]]
    expected = ["announcement.remove", "announcement.update", "announcement.create"]
    assert actions == [(a, "manage_announcements", str(row.id)) for a in expected]
    assert _chain_intact(roost)


def test_given_an_emoji_uploaded_and_deleted_on_the_web_then_it_is_served_and_audited(
    roost: Roost,
) -> None:
    browser = _staff(roost, "emojist", int(P.MANAGE_CUSTOM_EMOJIS))
    token = token_of(browser, "/admin/emoji")
    image = samples.png(32, 32)

    forged = browser.post(
        "/admin/emoji",
        data={"csrf_token": "nope", "shortcode": "roost"},
        files={"image": ("r.png", image, "image/png")},
    )
    assert forged.status_code == 403 and _rows(roost, custom_emojis) == []

    added = browser.post(
        "/admin/emoji",
        data={"csrf_token": token, "shortcode": "roost", "visible_in_picker": "on"},
        files={"image": ("r.png", image, "image/png")},
        follow_redirects=False,
    )
    assert added.status_code == 303, added.text[:400]
    listed = roost.client.get("/api/v1/custom_emojis").json()
    assert [e["shortcode"] for e in listed] == ["roost"]
    assert roost.client.get(listed[0]["url"]).content == image
    assert ":roost:" in browser.get("/admin/emoji").text

    not_image = browser.post(
        "/admin/emoji",
        data={"csrf_token": token, "shortcode": "bad"},
        files={"image": ("r.png", b"not a picture", "image/png")},
    )
    assert not_image.status_code == 422 and "not a PNG, GIF or WebP" in not_image.text
    taken = browser.post(
        "/admin/emoji",
        data={"csrf_token": token, "shortcode": "roost"},
        files={"image": ("r.png", image, "image/png")},
    )
    assert taken.status_code == 422 and len(_rows(roost, custom_emojis)) == 1

    assert post_form(browser, "/admin/emoji/roost/delete", "x").status_code == 403
    assert len(_rows(roost, custom_emojis)) == 1
    assert post_form(browser, "/admin/emoji/roost/delete", token).status_code == 303
    assert roost.client.get("/api/v1/custom_emojis").json() == []

    removal, creation = _audit(roost)[:2]
    assert (creation.action, creation.permission) == ("custom_emoji.create", "manage_custom_emojis")
    assert creation.details["shortcode"] == "roost"
    assert (removal.action, removal.details["shortcode"]) == ("custom_emoji.remove", "roost")


def _park(roost: Roost, count: int) -> list[int]:
    async def make() -> list[int]:
        async with roost.db.write() as tx:
            ids = [
                await enqueue(tx, Notify(type="mention", account_id=n + 1, from_account_id=0))
                for n in range(count)
            ]
            await tx.execute(
                update(jobs)
                .where(jobs.c.id.in_(ids))
                .values(state="parked", attempts=8, last_error="RuntimeError: boom")
            )
        return ids

    return roost.run(make)


def _states(roost: Roost) -> dict[int, str]:
    return {int(r.id): r.state for r in _rows(roost, jobs)}


def test_given_parked_jobs_then_the_jobs_page_shows_them_and_retries_and_discards(
    roost: Roost,
) -> None:
    first, second, third = _park(roost, 3)
    browser = _staff(roost, "ops", int(P.DEVOPS))
    page = browser.get("/admin/jobs")
    assert page.status_code == 200
    assert "RuntimeError: boom" in page.text and "notify" in page.text
    assert 'hx-get="/admin/jobs/queue" hx-trigger="every 10s"' in page.text
    fragment = browser.get("/admin/jobs/queue")
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "<td>parked</td><td>3</td>" in fragment.text
    lacking = _staff(roost, "notops", everything_but(P.DEVOPS))
    assert lacking.get("/admin/jobs/queue").status_code == 403
    token = token_of(browser, "/admin/jobs")

    assert post_form(browser, f"/admin/jobs/{first}/retry", "bad").status_code == 403
    assert post_form(browser, f"/admin/jobs/{second}/discard", "").status_code == 403
    assert set(_states(roost).values()) == {"parked"}

    assert post_form(browser, f"/admin/jobs/{first}/retry", token).status_code == 303
    assert _states(roost)[first] == "queued"
    assert post_form(browser, f"/admin/jobs/{second}/discard", token).status_code == 303
    assert second not in _states(roost)
    assert post_form(browser, f"/admin/jobs/{first}/discard", token).status_code == 404
    assert post_form(browser, "/admin/jobs/retry_all", token).status_code == 303
    assert _states(roost)[third] == "queued"

    actions = [(e.action, e.permission, e.subject_id, e.details["jobs"]) for e in _audit(roost)[:3]]
    assert actions == [
        ("job.retry", "devops", None, 1),
        ("job.discard", "devops", str(second), 1),
        ("job.retry", "devops", str(first), 1),
    ]


def test_given_the_doctor_page_then_it_shows_the_doctors_checks(roost: Roost) -> None:
    browser = _staff(roost, "ops", int(P.DEVOPS))
    page = browser.get("/admin/doctor")
    assert page.status_code == 200
    for name in ("disk use", "database", "jobs", "backups", "mail"):
        assert f'<th scope="row">{name}</th>' in page.text
    assert "ROOST_SMTP_URL is not set" in page.text or "mail" in page.text


def test_given_a_role_without_the_permission_then_its_forms_change_nothing(roost: Roost) -> None:
    [job] = _park(roost, 1)
    outsider = _staff(roost, "mod", everything_but(P.DEVOPS) & ~P.MANAGE_RULES)
    token = token_of(outsider, "/admin")
    assert post_form(outsider, "/admin/rules", token, text="Mine").status_code == 403
    assert post_form(outsider, f"/admin/jobs/{job}/discard", token).status_code == 403
    assert _rows(roost, instance_rules) == [] and _states(roost) == {job: "parked"}
    assert [e for e in _audit(roost) if e.action.startswith(("rule.", "job."))] == []


def test_given_an_emoji_too_large_then_it_is_refused_before_it_is_read(roost: Roost) -> None:
    browser = _staff(roost, "emojist", int(P.MANAGE_CUSTOM_EMOJIS))
    token = token_of(browser, "/admin/emoji")
    answer = browser.post(
        "/admin/emoji",
        data={"csrf_token": token, "shortcode": "huge"},
        files={"image": ("h.png", samples.png() + b"\0" * (300 * 1024), "image/png")},
    )
    assert answer.status_code == 413 and "larger than 256 KiB" in answer.text
    assert _rows(roost, custom_emojis) == []


def test_given_every_staff_form_then_a_role_without_its_permission_changes_nothing(
    roost: Roost,
) -> None:
    [job] = _park(roost, 1)
    posted = 0
    for route in STAFF_ROUTES:
        if "POST" not in getattr(route, "methods", set()):
            continue
        [needed] = [
            d.call.roost_permission  # type: ignore[attr-defined]
            for d in getattr(route, "dependant").dependencies  # noqa: B009
            if hasattr(d.call, "roost_permission")
        ]
        lacking = _staff(roost, f"lacks{posted}", everything_but(needed))
        token = token_of(lacking, "/admin")
        path = route.path.format(
            rule_id=job,
            announcement_id=job,
            shortcode="roost",
            job_id=job,
            request_id=job,
            appeal_id=job,
            report_id=job,
            media_id=job,
            cluster_id=job,
            preset_id=job,
        )
        answer = post_form(lacking, path, token, text="Mine", shortcode="mine")
        assert answer.status_code == 403, path
        posted += 1
    assert posted >= 9
    assert _rows(roost, instance_rules) == [] and _rows(roost, announcements) == []
    assert _states(roost) == {job: "parked"}
    staff_actions = ("rule.", "announcement.", "custom_emoji.", "job.", "spam.", "warning_preset.")
    assert [e.action for e in _audit(roost) if e.action.startswith(staff_actions)] == []


def test_given_a_staff_member_erased_then_what_they_wrote_leaves_the_audit_log(
    roost: Roost,
) -> None:
    from roost.erasure.erase import erase_account

    writer = staff_with(roost, "writer", int(P.MANAGE_ANNOUNCEMENTS | P.MANAGE_RULES))
    browser = signed_in_browser(roost, writer)
    token = token_of(browser, "/admin/rules")
    post_form(browser, "/admin/rules", token, text="Quokka rule")
    post_form(browser, "/admin/announcements", token, text="Quokka news")
    written = [e for e in _audit(roost) if e.action in ("rule.create", "announcement.create")]
    assert len(written) == 2 and all("Quokka" in str(e.personal) for e in written)
    services = roost.client.app.state.services  # type: ignore[attr-defined]

    receipt = roost.run(lambda: erase_account(services, int(writer.id)))

    assert receipt.clean, receipt.as_dict()
    after = [e for e in _audit(roost) if e.action in ("rule.create", "announcement.create")]
    assert len(after) == 2
    assert all(e.erased and e.personal == {} and e.actor_account_id is None for e in after)
    assert _chain_intact(roost)


def test_given_a_role_taken_away_then_the_next_request_is_refused(roost: Roost) -> None:
    from roost.domain.audit.chain import CONSOLE
    from roost.domain.roles.actions import do_revoke_role

    mod = staff_with(roost, "fleeting", int(P.MANAGE_RULES))
    browser = signed_in_browser(roost, mod)
    token = token_of(browser, "/admin/rules")

    async def revoke() -> None:
        async with roost.db.write() as tx:
            await do_revoke_role(tx, account_id=int(mod.id), by=CONSOLE)

    roost.run(revoke)

    assert browser.get("/admin/rules").status_code == 403
    assert browser.get("/admin").status_code == 403
    assert post_form(browser, "/admin/rules", token, text="Late").status_code == 403
    assert _rows(roost, instance_rules) == []
