"""The moderation queue (/admin/queue): open reports by urgency and age, each
with its posts in context, media blurred until revealed one item at a time,
every report opened and item revealed counted per moderator, day and
category, a daily limit past which the queue assigns nothing more, and
one-click decisions with rule templates, each in the audit log."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from roost.app import create_app
from roost.config import Settings
from roost.db.tables import moderation_exposures, moderation_views, reports
from roost.domain.audit.chain import Entry, entries, verify
from roost.domain.instance.rules import do_add_rule
from roost.erasure.erase import erase_account
from tests.api.staff_support import ADMIN_SCOPES, grant
from tests.conftest import Roost, User
from tests.media import samples
from tests.web.support import Browser
from tests.web.support_app import post_form, signed_in_browser, token_of


@pytest.fixture
def limited(settings: Settings) -> Iterator[Roost]:
    changed = settings.model_copy(
        update={"run_jobs_in_process": False, "moderation_daily_limit": 3}
    )
    with TestClient(create_app(changed)) as client:
        yield Roost(client, changed)


def _moderator(roost: Roost, name: str = "mod", role: str = "Moderator") -> tuple[User, Browser]:
    user = roost.account(name, scopes=ADMIN_SCOPES)
    grant(roost, user, role)
    return user, signed_in_browser(roost, user)


def _rule(roost: Roost, text: str) -> int:
    async def add() -> int:
        async with roost.db.write() as tx:
            return (await do_add_rule(tx, text)).id

    return roost.run(add)


def _picture(user: User, description: str) -> str:
    answer = user.post(
        "/api/v2/media",
        files={"file": ("p.png", samples.png(), "image/png")},
        data={"description": description},
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


def _report(user: User, target: User, **fields: Any) -> str:
    answer = user.post("/api/v1/reports", data={"account_id": target.id, **fields})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


def _rows(roost: Roost, table: Any) -> list[Any]:
    async def read() -> list[Any]:
        async with roost.db.read() as conn:
            return list((await conn.execute(select(table))).all())

    return roost.run(read)


def _audit(roost: Roost) -> list[Entry]:
    async def read() -> list[Entry]:
        async with roost.db.read() as conn:
            return await entries(conn, limit=200)

    return roost.run(read)


def _chain_intact(roost: Roost) -> bool:
    async def check() -> bool:
        async with roost.db.read() as conn:
            return (await verify(conn)).intact

    return roost.run(check)


def _age(roost: Roost, report_id: str, iso: str) -> None:
    from datetime import datetime

    async def change() -> None:
        async with roost.db.write() as tx:
            await tx.execute(
                update(reports)
                .where(reports.c.id == int(report_id))
                .values(created_at=datetime.fromisoformat(iso))
            )

    roost.run(change)


def _order(html: str) -> list[str]:
    return re.findall(r'<a href="/admin/queue/(\d+)">Report', html)


def test_given_reports_of_each_kind_then_legal_and_violations_lead_then_reporters_then_age(
    roost: Roost,
) -> None:
    rule = _rule(roost, "No harassment")
    people = [roost.account(n) for n in ("ann", "ben", "cat", "dan", "eve")]
    spammer, troll, shop, other = (roost.account(n) for n in ("spammer", "troll", "shop", "odd"))
    ann, ben, cat, dan, eve = people
    old_spam = _report(ann, spammer, category="spam")
    new_spam_twice = _report(ben, shop, category="spam")
    second = _report(cat, shop, category="spam")
    something = _report(dan, other, category="other")
    legal = _report(eve, troll, category="legal")
    violation = _report(ann, troll, category="violation", **{"rule_ids[]": [str(rule)]})
    _age(roost, old_spam, "2026-01-01T00:00:00+00:00")
    _age(roost, new_spam_twice, "2026-02-01T00:00:00+00:00")
    _age(roost, second, "2026-02-02T00:00:00+00:00")
    _age(roost, something, "2025-01-01T00:00:00+00:00")
    _age(roost, legal, "2026-03-01T00:00:00+00:00")
    _age(roost, violation, "2026-02-15T00:00:00+00:00")

    _, browser = _moderator(roost)
    page = browser.get("/admin/queue")
    assert page.status_code == 200, page.text[:400]
    # legal and violation weigh the same: both about troll (two reporters),
    # the older first; then spam about shop (two reporters) before the older
    # spam with one; "other", though the oldest, last.
    assert _order(page.text) == [violation, legal, new_spam_twice, second, old_spam, something]


def test_given_a_reported_reply_with_a_picture_then_in_context_blurred_and_counted_once(
    roost: Roost,
) -> None:
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    parent = alice.post_status("Has anyone seen my cat?")
    media = _picture(bob, "a grim picture")
    reply = bob.post_status("@alice here it is", in_reply_to_id=parent["id"], media_ids=[media])
    report = _report(carol, bob, category="spam", **{"status_ids[]": [reply["id"]]})
    assert bob.delete(f"/api/v1/statuses/{reply['id']}").status_code == 200

    mod, browser = _moderator(roost)
    page = browser.get(f"/admin/queue/{report}")
    assert page.status_code == 200, page.text[:400]
    text = page.text
    assert "here it is" in text and "deleted since" in text  # the snapshot
    figure = re.search(r'<figure class="queue-media"[^>]*data-media="(\d+)"', text)
    assert figure is not None and figure.group(1) == media
    assert "revealed" not in text.split('class="queue-media')[1].split(">")[0]
    assert f"/media/{media}/" in text and f"viewer={mod.id}" in text  # signed for the moderator
    browser.get(f"/admin/queue/{report}")
    [counted] = _rows(roost, moderation_exposures)
    assert (counted.account_id, counted.category, counted.reports, counted.media) == (
        int(mod.id),
        "spam",
        1,
        0,
    )

    # In context: a report of a post still there shows the post it answers.
    kept = bob.post_status("@alice and again", in_reply_to_id=parent["id"])
    another = _report(carol, bob, category="other", **{"status_ids[]": [kept["id"]]})
    shown = browser.get(f"/admin/queue/{another}").text
    assert "In reply to @alice" in shown and "Has anyone seen my cat?" in shown


def test_given_two_pictures_when_one_is_revealed_then_only_it_shows_and_it_is_counted_and_audited(
    roost: Roost,
) -> None:
    bob, carol = roost.account("bob"), roost.account("carol")
    first, second = _picture(bob, "one"), _picture(bob, "two")
    post = bob.post_status("look", media_ids=[first, second])
    report = _report(carol, bob, category="legal", **{"status_ids[]": [post["id"]]})
    mod, browser = _moderator(roost)
    token = token_of(browser, f"/admin/queue/{report}")

    forged = post_form(browser, f"/admin/queue/{report}/media/{first}/reveal", "nope")
    assert forged.status_code == 403

    # With htmx: only that item comes back, shown.
    fragment = browser.post(
        f"/admin/queue/{report}/media/{first}/reveal",
        data={"csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<figure class="queue-media revealed"')
    assert f'data-media="{first}"' in fragment.text and "<html" not in fragment.text

    # Without script: the page comes back with that one item shown.
    page = post_form(browser, f"/admin/queue/{report}/media/{second}/reveal", token)
    assert page.status_code == 200
    revealed = re.findall(r'class="queue-media( revealed)?"[^>]*data-media="(\d+)"', page.text)
    assert revealed == [("", first), (" revealed", second)]

    unknown = post_form(browser, f"/admin/queue/{report}/media/12345/reveal", token)
    assert unknown.status_code == 404

    [counted] = _rows(roost, moderation_exposures)
    assert (counted.category, counted.reports, counted.media) == ("legal", 1, 2)
    reveals = [e for e in _audit(roost) if e.action == "report.media_reveal"]
    assert [e.details["media_id"] for e in reveals] == [second, first]
    assert all(e.details["via"] == "web" and e.actor_account_id == int(mod.id) for e in reveals)
    assert _chain_intact(roost)


def test_given_exposure_counts_then_a_moderator_sees_their_own_and_an_administrator_everyones(
    roost: Roost,
) -> None:
    bob, carol = roost.account("bob"), roost.account("carol")
    report = _report(carol, bob, category="spam")
    _, first = _moderator(roost, "firstmod")
    _, second = _moderator(roost, "secondmod")
    first.get(f"/admin/queue/{report}")
    second.get(f"/admin/queue/{report}")
    second.get(f"/admin/queue/{report}")

    own = first.get("/admin/queue/exposure").text
    assert "@secondmod" not in own and "Only you and the administrators" in own
    cells = re.findall(r'<td data-category="spam">(\d+) / (\d+)</td>', own)
    assert cells == [("1", "0")]

    _, owner = _moderator(roost, "owner", role="Owner")
    everyone = owner.get("/admin/queue/exposure").text
    assert "@firstmod" in everyone and "@secondmod" in everyone
    assert re.findall(r'<td data-category="spam">(\d+) / (\d+)</td>', everyone) == [
        ("1", "0"),
        ("1", "0"),
    ]


def test_given_the_daily_limit_reached_then_the_queue_suggests_a_break_and_assigns_nothing(
    limited: Roost,
) -> None:
    roost = limited
    bob, carol = roost.account("bob"), roost.account("carol")
    picture = _picture(bob, "x")
    post = bob.post_status("look", media_ids=[picture])
    held = _report(carol, bob, category="spam", **{"status_ids[]": [post["id"]]})
    waiting = _report(carol, bob, category="other")
    mod, browser = _moderator(roost)
    token = token_of(browser, "/admin/queue")

    taken = post_form(browser, "/admin/queue/next", token)
    assert taken.status_code == 303 and taken.headers["location"].startswith(f"/admin/queue/{held}")
    browser.get(f"/admin/queue/{held}")  # 1
    post_form(browser, f"/admin/queue/{held}/media/{picture}/reveal", token)  # 2
    browser.get(f"/admin/queue/{waiting}")  # 3: the limit
    queue = browser.get("/admin/queue").text
    assert "Take a break" in queue and "Take the next report" not in queue
    assert "<strong>3</strong> of 3" in queue

    refused = post_form(browser, "/admin/queue/next", token)
    assert refused.status_code == 422 and "Take a break" in refused.text
    refused = post_form(browser, f"/admin/queue/{waiting}/assign", token)
    assert refused.status_code == 422 and "until tomorrow" in refused.text
    [row] = [r for r in _rows(roost, reports) if str(r.id) == waiting]
    assert row.assigned_account_id is None
    # The report already held can still be finished.
    done = post_form(browser, f"/admin/queue/{held}/resolve", token)
    assert done.status_code == 303
    assignments = [e for e in _audit(roost) if e.action == "report.assign"]
    assert [e.subject_id for e in assignments] == [held]
    assert assignments[0].actor_account_id == int(mod.id)


def test_given_rule_templates_then_one_click_resolves_or_suspends_naming_the_rule_and_audits_it(
    roost: Roost,
) -> None:
    _rule(roost, "Be kind")
    spam_rule = _rule(roost, "No spam")
    bob, carol, dave = roost.account("bob"), roost.account("carol"), roost.account("dave")
    first = _report(carol, bob, category="other")
    second = _report(carol, dave, category="spam")
    mod, browser = _moderator(roost)
    page = browser.get(f"/admin/queue/{first}").text
    assert "Breaks rule 2: No spam" in page and "Suspend and resolve" in page
    token = token_of(browser, f"/admin/queue/{first}")

    resolved = post_form(browser, f"/admin/queue/{first}/resolve", token, rule_id=str(spam_rule))
    assert resolved.status_code == 303
    shown = mod.get(f"/api/v1/admin/reports/{first}").json()
    assert shown["action_taken"] is True and shown["category"] == "violation"
    assert shown["rules"][0]["id"] == str(spam_rule)
    wrong = post_form(browser, f"/admin/queue/{second}/resolve", token, rule_id="999")
    assert wrong.status_code == 422 and "no such rule" in wrong.text

    # A role without manage_users sees no suspension and cannot post one.
    triage_user = roost.account("triage", scopes=ADMIN_SCOPES)
    from tests.api.staff_support import make_role

    make_role(roost, "Triage", 1 << 4)  # manage_reports
    grant(roost, triage_user, "Triage")
    triage = signed_in_browser(roost, triage_user)
    assert "Suspend and resolve" not in triage.get(f"/admin/queue/{second}").text
    triage_token = token_of(triage, f"/admin/queue/{second}")
    assert post_form(triage, f"/admin/queue/{second}/suspend", triage_token).status_code == 403

    suspended = post_form(browser, f"/admin/queue/{second}/suspend", token, rule_id=str(spam_rule))
    assert suspended.status_code == 303
    assert mod.get(f"/api/v1/admin/reports/{second}").json()["action_taken"] is True
    assert mod.get(f"/api/v1/admin/accounts/{dave.id}").json()["suspended"] is True

    actions = [(e.action, e.subject_id, e.details.get("via")) for e in _audit(roost)]
    assert ("report.update", first, "web") in actions
    assert ("report.resolve", first, "web") in actions
    assert ("report.resolve", second, "web") in actions
    suspension = next(e for e in _audit(roost) if e.action == "account.suspend")
    assert suspension.details["via"] == "web" and suspension.target_account_id == int(dave.id)
    assert suspension.personal["reason"] == "Breaks rule 2: No spam"
    assert _chain_intact(roost)


def test_given_a_moderator_erased_then_their_exposure_counts_go(roost: Roost) -> None:
    bob, carol = roost.account("bob"), roost.account("carol")
    report = _report(carol, bob, category="spam")
    mod, browser = _moderator(roost)
    _, other = _moderator(roost, "othermod")
    browser.get(f"/admin/queue/{report}")
    other.get(f"/admin/queue/{report}")
    assert len(_rows(roost, moderation_exposures)) == 2
    services = roost.client.app.state.services  # type: ignore[attr-defined]
    roost.run(lambda: erase_account(services, int(mod.id)))
    assert [r.account_id for r in _rows(roost, moderation_exposures)] != [int(mod.id)]
    assert int(mod.id) not in {r.account_id for r in _rows(roost, moderation_exposures)}
    assert int(mod.id) not in {r.account_id for r in _rows(roost, moderation_views)}
    assert len(_rows(roost, moderation_views)) == 1


def test_given_every_open_report_held_then_taking_the_next_says_the_queue_is_clear(
    roost: Roost,
) -> None:
    bob, carol = roost.account("bob"), roost.account("carol")
    report = _report(carol, bob, category="spam")
    _, first = _moderator(roost, "firstmod")
    _, second = _moderator(roost, "secondmod")
    taken = post_form(first, "/admin/queue/next", token_of(first, "/admin/queue"))
    assert taken.headers["location"] == f"/admin/queue/{report}?done=assigned"
    empty = post_form(second, "/admin/queue/next", token_of(second, "/admin/queue"))
    assert empty.status_code == 303 and empty.headers["location"] == "/admin/queue?done=empty"
    shown = second.get(empty.headers["location"]).text
    assert "the queue is clear" in shown and "@firstmod" in shown
