"""Drill (threats 37-40): queue media arrives blurred.

A real `roost serve` (on SQLite, and on PostgreSQL + Redis when the test
backends are configured); a member reports a post with two pictures; the
moderator opens the report in Chromium. Every picture has loaded, through
the signed media URL issued to the moderator, and is shown with a CSS
filter that blurs it and turns it grey; none is shown plainly until the
moderator asks for that one picture, and the one shown is counted and in
the audit log.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.browser import conftest as browser_support
from tests.web.browser.queue_support import media_state, reported_pictures, sign_in

pytestmark = pytest.mark.slow

# The browser tests' fixtures: Chromium, and `roost serve` on the test backend.
browser = browser_support.browser
server = browser_support.server


def test_given_a_reported_post_with_pictures_then_they_arrive_blurred_and_grey(
    server: browser_support.Server, browser: Any
) -> None:
    reported = reported_pictures(server)
    [report] = reported.reports
    page = browser.new_context(viewport=browser_support.DESKTOP).new_page()
    sign_in(page, server.url)
    answer = page.goto(f"{server.url}/admin/queue/{report}")
    assert answer is not None and answer.status == 200
    page.wait_for_function(
        "() => [...document.querySelectorAll('figure.queue-media img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    shown = media_state(page)
    assert [m["id"] for m in shown] == reported.media
    for item in shown:
        assert item["loaded"] and not item["revealed"], item
        assert "blur(" in item["filter"] and "grayscale(1)" in item["filter"], item

    page.get_by_role("button", name="Show this image").first.click()
    page.wait_for_selector("figure.queue-media.revealed")
    first, second = media_state(page)
    assert first["filter"] == "none" and "blur(" in second["filter"]
    audit = server.roost("audit", "list", "--limit", "5")
    assert "report.media_reveal" in audit.stdout
