"""A moderator works the queue in Chromium: the reported pictures arrive
blurred and grey (the computed CSS filter), one click shows one picture and
no other, each report opened and picture shown is counted on the exposure
page, and past the daily limit the queue suggests a break and assigns
nothing more. Pages are checked with axe-core; screenshots ``queue-*.png``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.web.browser.conftest import DESKTOP, PHONE, Server, check_accessibility
from tests.web.browser.queue_support import media_state, reported_pictures, sign_in


def _shoot(page: Any, directory: Path, name: str) -> None:
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(size)
        check_accessibility(page)
        page.screenshot(path=str(directory / f"queue-{name}-{label}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


@pytest.mark.server_settings(moderation_daily_limit=4)
def test_a_moderator_reveals_one_picture_at_a_time_is_counted_and_stopped_at_the_limit(
    server: Server, browser: Any, screenshots: Path
) -> None:
    base = server.url
    reported = reported_pictures(server, reports=2)
    first_report, second_report = reported.reports
    first, second = reported.media
    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, base)

    page.goto(base + "/admin/queue")
    page.get_by_role("heading", name="Moderation queue").wait_for()
    check_accessibility(page)
    _shoot(page, screenshots, "list")
    page.get_by_role("button", name="Take the next report").click()
    page.get_by_text("The report is yours.").wait_for()
    assert page.url.startswith(f"{base}/admin/queue/{first_report}")

    # Both pictures arrive blurred and grey, and both did load.
    page.wait_for_function(
        "() => [...document.querySelectorAll('figure.queue-media img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    before = media_state(page)
    assert [m["id"] for m in before] == [first, second]
    for item in before:
        assert not item["revealed"] and item["loaded"], item
        assert "blur(" in item["filter"] and "grayscale(1)" in item["filter"], item
    _shoot(page, screenshots, "report")

    # One click shows that picture only.
    page.get_by_role("button", name="Show this image").first.click()
    page.wait_for_selector(f'figure.queue-media.revealed[data-media="{first}"]')
    after = {m["id"]: m for m in media_state(page)}
    assert after[first]["revealed"] and after[first]["filter"] == "none"
    assert not after[second]["revealed"] and "blur(" in after[second]["filter"]
    check_accessibility(page)

    # Counted: one report opened, one picture shown.
    page.goto(base + "/admin/queue/exposure")
    cells = page.eval_on_selector_all(
        'td[data-category="spam"]', "cells => cells.map(c => c.textContent.trim())"
    )
    assert cells == ["1 / 1"]
    assert page.eval_on_selector("td[data-total]", "c => c.textContent.trim()") == "2"
    check_accessibility(page)
    _shoot(page, screenshots, "exposure")

    # The second picture (3), then the second report opened (4): the limit.
    page.goto(f"{base}/admin/queue/{first_report}")
    page.get_by_role("button", name="Show this image").last.click()
    page.wait_for_selector(f'figure.queue-media.revealed[data-media="{second}"]')
    page.goto(f"{base}/admin/queue/{second_report}")
    page.goto(base + "/admin/queue")
    page.get_by_text("That is today's limit. Take a break").wait_for()
    assert page.get_by_role("button", name="Take the next report").count() == 0
    check_accessibility(page)
    _shoot(page, screenshots, "break")

    page.goto(f"{base}/admin/queue/{second_report}")
    page.get_by_role("button", name="Assign to me").click()
    page.get_by_text("the queue assigns you no more reports until tomorrow").wait_for()
    with server.api(reported.moderator_token) as api:
        held = {r["id"]: r["assigned_account"] for r in api.get("/api/v1/admin/reports").json()}
    assert held[first_report] is not None and held[second_report] is None

    audit = server.roost("audit", "list", "--limit", "20")
    assert audit.returncode == 0, audit.stderr
    assert audit.stdout.count("report.media_reveal") == 2 and "report.assign" in audit.stdout
    assert server.roost("audit", "verify").returncode == 0
