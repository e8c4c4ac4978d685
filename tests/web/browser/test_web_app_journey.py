"""A new person's whole life on the web, in a browser: signs up, confirms by
e-mail, posts with an image, follows someone, sees their post arrive live,
imports the shared mock Twitter archive with the progress bar, downloads
their archive (and its Mastodon-format files), turns on two-factor sign-in,
signs in again with it, and deletes the account, with the erasure receipt.
A visitor opens every ``url`` the API returned on the way and gets a page,
never a 404. Every page passes axe-core; the main ones are photographed at
phone and desktop widths."""

from __future__ import annotations

import re
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from roost.domain.accounts import totp
from tests.conftest import SHARED
from tests.media import samples
from tests.web.browser.conftest import DESKTOP, PHONE, Server, check_accessibility, wait_for_mail

# The mock archive is @exGenesis's: the person takes that name here, as
# someone moving from Twitter would.
NAME = "exGenesis"
PASSWORD = "a long and careful password"
MOCK = SHARED / "fixtures" / "twitter-archive-community-mock"

pytestmark = pytest.mark.skipif(
    not (MOCK / "data" / "tweets.js").exists(),
    reason=f"the published mock archive is not at {MOCK}",
)


def _visit(page: Any, url: str, *, status: int = 200) -> None:
    response = page.goto(url)
    assert response is not None and response.status == status, (url, response and response.status)
    check_accessibility(page)


def _shoot(page: Any, directory: Path, name: str) -> None:
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(size)
        page.screenshot(path=str(directory / f"app-{name}-{label}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def _sign_in(page: Any, server: Server, login: str, password: str) -> None:
    _visit(page, server.url + "/auth/sign_in")
    page.get_by_label("User name or e-mail address").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def _zip_folder(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return target


def test_a_new_person_lives_a_whole_life_on_the_web(
    server: Server, browser: Any, screenshots: Path, tmp_path: Path
) -> None:
    base = server.url
    person = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = person.new_page()
    handed_out: set[str] = set()

    # Someone to follow, already here.
    made = server.roost(
        "accounts", "create", "finch", "--email", "finch@example.org", "--password", PASSWORD
    )
    assert made.returncode == 0, made.stderr
    finch = server.api(server.roost("tokens", "create", "finch").stdout.strip())

    # Sign up and confirm by e-mail.
    _visit(page, base + "/auth/sign_up")
    page.get_by_label("User name").fill(NAME)
    page.get_by_label("E-mail address").fill("genesis@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_label("I accept").check()
    page.get_by_role("button", name="Create the account").click()
    page.get_by_role("heading", name="Check your e-mail").wait_for()
    wait_for_mail(server.mailbox, 1)
    _visit(page, server.mailbox.link())
    assert "confirmed" in page.content()
    _sign_in(page, server, NAME, PASSWORD)
    page.get_by_role("heading", name="Home", exact=True).wait_for()
    assert page.url.endswith("/home")
    check_accessibility(page)

    # A post with an image and its description.
    photo = tmp_path / "square.png"
    photo.write_bytes(samples.png())
    page.get_by_label("What's on your mind?").fill("My first post on #RoostWeb")
    page.get_by_text("Attach images, video or sound").click()
    page.get_by_label("File 1", exact=True).set_input_files(str(photo))
    page.get_by_label("Description of file 1 (alt text)").fill("a small red square")
    check_accessibility(page)
    page.get_by_role("button", name="Post", exact=True).click()
    page.get_by_alt_text("a small red square").wait_for()
    assert "My first post on" in page.content()
    _shoot(page, screenshots, "home")

    # Follow finch from the profile; finch's new post arrives live.
    _visit(page, base + "/@finch")
    page.get_by_role("button", name="Follow", exact=True).click()
    page.get_by_role("button", name="Unfollow").wait_for()
    check_accessibility(page)
    _shoot(page, screenshots, "profile-signed-in")
    _visit(page, base + "/home")
    page.locator("#live-status", has_text="as they arrive").wait_for()
    finch_post = finch.post("/api/v1/statuses", json={"status": "Hello, new neighbour"}).json()
    handed_out |= {finch_post["url"], finch_post["account"]["url"]}
    page.locator("#timeline article", has_text="Hello, new neighbour").wait_for(timeout=15000)
    check_accessibility(page)
    # The live card's buttons work like any other.
    card = page.locator(f"#post-{finch_post['id']}")
    card.get_by_role("button", name="Favourite").click()
    card.get_by_role("button", name="Favourited").wait_for()
    assert finch.get(f"/api/v1/statuses/{finch_post['id']}").json()["favourites_count"] == 1

    # The local timeline and a reply.
    _visit(page, base + "/web/timelines/local")
    _visit(page, base + f"/web/statuses/{finch_post['id']}/reply")
    page.get_by_label("Your reply").fill("@finch hello to you too")
    page.get_by_role("button", name="Reply", exact=True).click()
    page.get_by_text("hello to you too").first.wait_for()

    # The other pages of the app, each checked with axe.
    _visit(page, base + "/web/notifications")
    assert "favourited your post" not in page.content()  # nobody has yet
    _shoot(page, screenshots, "notifications")
    _visit(page, base + "/web/search?q=finch")
    page.get_by_role("link", name="finch").first.wait_for()
    _shoot(page, screenshots, "search")
    _visit(page, base + "/web/lists")
    page.get_by_label("New list's title").fill("Neighbours")
    page.get_by_role("button", name="Make the list").click()
    page.get_by_role("heading", name="Neighbours").wait_for()
    page.get_by_text("Who is on this list").click()
    page.get_by_label("Add someone you follow (user name)").fill("finch")
    page.get_by_role("button", name="Add", exact=True).click()
    page.locator("article", has_text="Hello, new neighbour").first.wait_for()
    check_accessibility(page)
    _shoot(page, screenshots, "list")
    for path in ("/web/follow_requests", "/web/blocks", "/web/mutes"):
        _visit(page, base + path)
    _visit(page, base + "/settings/profile")
    page.get_by_label("Display name").fill("Genesis")
    page.get_by_label("About you").fill("Moved here from Twitter")
    page.get_by_role("button", name="Save the profile").click()
    page.get_by_text("Your profile is saved").wait_for()
    check_accessibility(page)
    _shoot(page, screenshots, "profile-edit")

    # Import the Twitter archive, watching its progress.
    archive = _zip_folder(MOCK, tmp_path / "twitter-archive.zip")
    _visit(page, base + "/settings/data")
    _shoot(page, screenshots, "your-data")
    page.get_by_label("Archive (.zip)").set_input_files(str(archive))
    page.get_by_role("button", name="Upload and import").click()
    page.get_by_role("heading", name="Twitter archive import").wait_for()
    assert page.locator("progress#import-bar").count() == 1
    check_accessibility(page)
    page.get_by_role("heading", name="Import finished").wait_for(timeout=60000)
    check_accessibility(page)
    assert page.locator("progress#import-bar").get_attribute("value") == "100"
    posts_row = page.locator("table.report tr", has_text="Posts")
    assert posts_row.locator("td").first.inner_text() == "7"
    assert "Media not in the archive" in page.content()
    _shoot(page, screenshots, "import-report")

    # What the API hands out for this account, for the visitor below.
    token = server.roost("tokens", "create", NAME).stdout.strip()
    api = server.api(token)
    me = api.get("/api/v1/accounts/verify_credentials").json()
    mine = api.get(f"/api/v1/accounts/{me['id']}/statuses", params={"limit": 40}).json()
    assert len(mine) >= 9  # the web post, the reply and the 7 imported
    handed_out |= {me["url"], me["uri"]}
    for status in mine:
        handed_out |= {status["url"], status["uri"]}
        handed_out |= {tag["url"] for tag in status["tags"]}
        handed_out |= {m["url"] for m in status["mentions"]}
        handed_out |= {a["url"] for a in status["media_attachments"]}

    # Download the archive and a file for moving to another server.
    page.get_by_role("link", name="Back to your data").click()
    page.get_by_role("button", name="Make an archive").click()
    with page.expect_download() as got:
        page.get_by_role("link", name=re.compile("Download your archive")).click()
    saved = tmp_path / "export.zip"
    got.value.save_as(saved)
    with zipfile.ZipFile(saved) as opened:
        assert {"outbox.json", "following_accounts.csv"} <= set(opened.namelist())
    with page.expect_download() as got:
        page.get_by_role("link", name="Accounts you follow").click()
    following = tmp_path / "following.csv"
    got.value.save_as(following)
    assert "finch@" in following.read_text()
    check_accessibility(page)

    # Two-factor sign-in, then signing in again with it.
    _visit(page, base + "/settings/security")
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    page.get_by_label("Code from the app").wait_for()
    secret = page.locator("#secret").inner_text().replace(" ", "")
    enabled_step = totp.step_at()
    page.get_by_label("Code from the app").fill(totp.code_at(secret))
    page.get_by_role("button", name="Turn it on").click()
    page.get_by_role("heading", name="Your recovery codes").wait_for()
    page.get_by_role("button", name="Sign out").first.click()
    _sign_in(page, server, NAME, PASSWORD)
    page.get_by_role("heading", name="Two-factor sign-in").wait_for()
    while totp.step_at() <= enabled_step:
        time.sleep(0.5)
    page.get_by_label("Code").fill(totp.code_at(secret))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Home", exact=True).wait_for()

    # A visitor opens every address handed out: a page (or the file), never a 404.
    visitor = browser.new_context(viewport=PHONE)
    look = visitor.new_page()
    for url in sorted(handed_out):
        if "/media/" in url or "/system/" in url:
            response = look.request.get(url)
            assert response.status == 200, url
        else:
            _visit(look, url)
    _visit(look, me["url"])
    _shoot(look, screenshots, "imported-profile")

    # Delete the account; the receipt is shown and can be kept.
    _visit(page, base + "/settings/delete")
    _shoot(page, screenshots, "delete")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_label("I understand this cannot be undone").check()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete my account for good").click()
    page.get_by_role("heading", name="Your account is deleted").wait_for()
    check_accessibility(page)
    _shoot(page, screenshots, "deleted")
    assert '"clean": true' in page.locator("#receipt").inner_text()
    with page.expect_download() as got:
        page.get_by_role("link", name="Download the receipt").click()
    receipt = tmp_path / "receipt.json"
    got.value.save_as(receipt)
    assert f'"username": "{NAME}"' in receipt.read_text()
    assert api.get("/api/v1/accounts/verify_credentials").status_code == 401
    # (The visitor's own browser may keep its copy for the page's max-age.)
    visitor.close()
    newcomer = browser.new_context(viewport=PHONE)
    _visit(newcomer.new_page(), me["url"], status=404)
    newcomer.close()
    person.close()
    api.close()
    finch.close()
