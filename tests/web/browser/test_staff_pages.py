"""The Owner in a browser goes through the staff area: adds a rule, publishes
and edits an announcement, uploads a custom emoji, opens the jobs page and
the doctor's report. Every page is checked with axe-core; screenshots at
phone and desktop widths are named ``staff-*.png``."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import update

from roost.db.engine import Database
from roost.db.tables import jobs
from roost.domain.notifications.jobs import Notify
from roost.jobs.outbox import enqueue
from tests.media import samples
from tests.web.browser.conftest import DESKTOP, PHONE, Server, check_accessibility

NAME = "kestrel"
PASSWORD = "a long and careful password"


def _visit(page: Any, url: str, *, status: int = 200) -> None:
    response = page.goto(url)
    assert response is not None and response.status == status, (url, response and response.status)
    check_accessibility(page)


def _shoot(page: Any, directory: Path, name: str) -> None:
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(size)
        check_accessibility(page)
        page.screenshot(path=str(directory / f"staff-{name}-{label}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def _park_a_job(server: Server) -> int:
    """A job that failed every attempt, as the runner leaves it."""

    async def park() -> int:
        db = Database(server.settings)
        try:
            async with db.write() as tx:
                job_id = await enqueue(tx, Notify(type="mention", account_id=1, from_account_id=0))
                await tx.execute(
                    update(jobs)
                    .where(jobs.c.id == job_id)
                    .values(state="parked", attempts=8, last_error="SMTPServerDisconnected")
                )
            return job_id
        finally:
            await db.dispose()

    # Playwright's own event loop runs in this thread.
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, park()).result()


def test_the_owner_looks_after_the_instance_from_the_staff_pages(
    server: Server, browser: Any, screenshots: Path, tmp_path: Path
) -> None:
    base = server.url
    for command in (
        ("accounts", "create", NAME, "--email", "kestrel@example.org", "--password", PASSWORD),
        ("accounts", "create", "plover", "--email", "plover@example.org", "--password", PASSWORD),
        ("roles", "grant", NAME, "Owner"),
    ):
        done = server.roost(*command)
        assert done.returncode == 0, done.stderr

    page = browser.new_context(viewport=DESKTOP).new_page()
    _visit(page, base + "/auth/sign_in")
    page.get_by_label("User name or e-mail address").fill(NAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Home", exact=True).wait_for()

    page.get_by_role("link", name="Staff", exact=True).first.click()
    page.get_by_role("heading", name="Staff", exact=True).wait_for()
    check_accessibility(page)
    _shoot(page, screenshots, "home")

    _visit(page, base + "/admin/settings")
    assert "ROOST_REGISTRATIONS" in page.content()
    _shoot(page, screenshots, "settings")

    _visit(page, base + "/admin/rules")
    page.get_by_label("Rule", exact=True).fill("Be kind to one another")
    page.get_by_label("Explanation (optional)").fill("Disagree without contempt.")
    page.get_by_role("button", name="Add the rule").click()
    page.get_by_text("The rule was added.").wait_for()
    check_accessibility(page)
    _shoot(page, screenshots, "rules")
    with server.api() as api:
        assert "Be kind to one another" in api.get("/api/v1/instance/rules").text

    _visit(page, base + "/admin/announcements")
    page.get_by_label("Text").fill("The server moves on Sunday.")
    page.get_by_role("button", name="Publish").click()
    page.get_by_text("The announcement is published.").wait_for()
    page.get_by_role("link", name="Edit announcement 1").click()
    page.get_by_label("Text").fill("The server moves on Saturday.")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("The announcement was saved.").wait_for()
    check_accessibility(page)
    _shoot(page, screenshots, "announcements")
    token = server.roost("tokens", "create", "plover").stdout.strip()
    with server.api(token) as api:
        seen = api.get("/api/v1/announcements").json()
    assert ["Saturday" in a["content"] for a in seen] == [True]

    picture = tmp_path / "roost.png"
    picture.write_bytes(samples.png(32, 32))
    _visit(page, base + "/admin/emoji")
    page.get_by_label("Shortcode").fill("roost")
    page.get_by_label("Image").set_input_files(str(picture))
    page.get_by_role("button", name="Add the emoji").click()
    page.get_by_text("The emoji was added.").wait_for()
    check_accessibility(page)
    _shoot(page, screenshots, "emoji")
    with server.api() as api:
        emoji = api.get("/api/v1/custom_emojis").json()
    assert [e["shortcode"] for e in emoji] == ["roost"]

    job = _park_a_job(server)
    _visit(page, base + "/admin/jobs")
    assert "SMTPServerDisconnected" in page.content()
    _shoot(page, screenshots, "jobs")
    page.get_by_role("button", name=f"Retry job {job}").click()
    page.get_by_text("The job is back in the queue.").wait_for()
    check_accessibility(page)

    _visit(page, base + "/admin/doctor")
    assert "database" in page.content()
    _shoot(page, screenshots, "doctor")

    audit = server.roost("audit", "list")
    assert audit.returncode == 0, audit.stderr
    for action in ("rule.create", "announcement.create", "announcement.update"):
        assert action in audit.stdout
    assert "custom_emoji.create" in audit.stdout and "job.retry" in audit.stdout
    assert server.roost("audit", "verify").returncode == 0
