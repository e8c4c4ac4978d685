"""Your data on the web: the Twitter archive import (streamed upload, the
progress fragment, the report), the archive download with its Mastodon-format
files, and deleting the account with the erasure receipt. Each route refuses
visitors, other accounts and forms without their CSRF token."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from roost.importers.twitter import job
from tests.conftest import Roost
from tests.importers.conftest import rich_archive
from tests.web.support_app import post_form, signed_in_browser, token_of

PASSWORD = "correct horse battery"  # tests.conftest.Roost.account's


@pytest.fixture(autouse=True)
def patient_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(job, "WAIT_S", 60.0)


def _uploads(roost: Roost) -> list[Path]:
    folder = roost.settings.data_dir / "imports"
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_given_an_archive_uploaded_on_the_web_then_progress_and_report_are_shown(
    roost: Roost, tmp_path: Path
) -> None:
    alice = roost.account("alice")
    browser = signed_in_browser(roost, alice)
    token = token_of(browser, "/settings/data")
    data = rich_archive().builder.write_zip(tmp_path / "a.zip").read_bytes()

    answer = browser.post(
        f"/settings/import?csrf_token={token}",
        files={"archive": ("twitter.zip", data, "application/zip")},
        data={"visibility": "unlisted", "include_dms": "true"},
        follow_redirects=False,
    )

    assert answer.status_code == 303, answer.text[:500]
    page_url = answer.headers["location"]
    run_id = page_url.rsplit("/", 1)[-1]
    waiting = browser.get(f"{page_url}/progress")
    assert waiting.status_code == 200
    assert 'hx-trigger="load delay:1s"' in waiting.text and "<progress" in waiting.text
    roost.drain_jobs()
    done = browser.get(f"{page_url}/progress")
    assert "hx-trigger" not in done.text, "a finished import stops asking"
    assert "Import finished" in done.text and 'value="100"' in done.text
    imported = re.search(r"<th scope=\"row\">Posts</th><td>(\d+)</td>", done.text)
    assert imported is not None and imported.group(1) == "15"
    assert "Skipped, and why" in done.text or "skipped" in done.text.lower()
    assert browser.get(page_url).status_code == 200
    assert run_id in browser.get("/settings/data").text
    statuses = alice.get(f"/api/v1/accounts/{alice.id}/statuses", params={"limit": 40}).json()
    assert len(statuses) == 15
    # Another account sees none of it.
    bob = signed_in_browser(roost, roost.account("bob"))
    assert bob.get(page_url).status_code == 404
    assert bob.get(f"{page_url}/progress").status_code == 404


def test_given_an_import_under_way_then_its_fragment_shows_each_phase_with_its_count(
    roost: Roost, tmp_path: Path
) -> None:
    """The progress the importer saves at each phase (roost/importers/twitter/
    phases.py ``_save``) is what the bar and its label show, polling on until
    the import ends."""
    from roost.importers.twitter.runs import do_update_run
    from roost.web.pages.your_data import PHASES

    alice = roost.account("alice")
    browser = signed_in_browser(roost, alice)
    token = token_of(browser, "/settings/data")
    data = rich_archive().builder.write_zip(tmp_path / "a.zip").read_bytes()
    answer = browser.post(
        f"/settings/import?csrf_token={token}",
        files={"archive": ("twitter.zip", data, "application/zip")},
        follow_redirects=False,
    )
    page_url = answer.headers["location"]
    run_id = int(page_url.rsplit("/", 1)[-1])
    seen = []
    for done, phase in enumerate(("posts", "threads", "likes", "following", "blocks"), start=1):

        async def advance(phase: str = phase, done: int = done) -> None:
            async with roost.db.write() as tx:
                progress = {"phase": phase, "done": done, "total": 8, "positions": {}}
                await do_update_run(tx, run_id, progress=progress)

        roost.run(advance)
        fragment = unescape(browser.get(f"{page_url}/progress").text)
        assert f"{PHASES[phase]}: {done} of 8" in fragment, fragment[:400]
        assert f'value="{done * 100 // 8}"' in fragment
        assert 'hx-trigger="load delay:1s"' in fragment and "Importing" in fragment
        seen.append(PHASES[phase])
    assert len(set(seen)) == 5
    roost.drain_jobs()
    finished = browser.get(f"{page_url}/progress").text
    assert "Import finished" in finished and "hx-trigger" not in finished


def test_given_an_upload_without_its_token_then_nothing_is_written(
    roost: Roost, tmp_path: Path
) -> None:
    alice = roost.account("alice")
    browser = signed_in_browser(roost, alice)
    token_of(browser, "/settings/data")
    data = rich_archive().builder.write_zip(tmp_path / "a.zip").read_bytes()
    for target in ("/settings/import", "/settings/import?csrf_token=forged"):
        answer = browser.post(
            target,
            files={"archive": ("twitter.zip", data, "application/zip")},
            follow_redirects=False,
        )
        assert answer.status_code == 403
    assert _uploads(roost) == []
    assert alice.get("/api/v1/roost/imports").json() == []


def test_given_something_that_is_no_archive_then_the_page_says_so_and_keeps_nothing(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    browser = signed_in_browser(roost, alice)
    token = token_of(browser, "/settings/data")
    answer = browser.post(
        f"/settings/import?csrf_token={token}",
        files={"archive": ("notes.zip", b"not a zip at all", "application/zip")},
        follow_redirects=False,
    )
    assert answer.status_code == 422
    assert 'class="notice error"' in answer.text
    assert _uploads(roost) == []


def test_given_an_export_then_the_archive_and_its_mastodon_files_download(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    alice.follow(bob)
    browser = signed_in_browser(roost, alice)
    answer = post_form(browser, "/settings/export", token_of(browser, "/settings/data"))
    assert answer.status_code == 303
    page = browser.get("/settings/data")
    found = re.search(r'href="/settings/export/(\d+)"', page.text)
    assert found is not None
    export_id = found.group(1)
    archive = browser.get(f"/settings/export/{export_id}")
    assert archive.status_code == 200
    assert archive.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as opened:
        assert "outbox.json" in opened.namelist()
    following = browser.get(f"/settings/export/{export_id}/following_accounts.csv")
    assert following.status_code == 200
    rows = list(csv.reader(io.StringIO(following.text)))
    assert any(row and row[0].startswith("bob@") for row in rows[1:]), rows
    assert browser.get(f"/settings/export/{export_id}/actor.json").status_code == 404
    # Nobody else can open it, by id or by file.
    other = signed_in_browser(roost, bob)
    assert other.get(f"/settings/export/{export_id}").status_code == 404
    assert other.get(f"/settings/export/{export_id}/following_accounts.csv").status_code == 404


def test_given_the_delete_form_then_the_password_is_asked_and_a_receipt_shown(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    alice.post_status("soon gone")
    browser = signed_in_browser(roost, alice)
    token = token_of(browser, "/settings/delete")
    wrong = post_form(browser, "/settings/delete", token, password="not it", confirm="1")
    assert wrong.status_code == 422 and "not your password" in wrong.text
    assert alice.get("/api/v1/accounts/verify_credentials").status_code == 200
    unticked = post_form(browser, "/settings/delete", token, password=PASSWORD)
    assert unticked.status_code == 422
    gone = post_form(browser, "/settings/delete", token, password=PASSWORD, confirm="1")
    assert gone.status_code == 200, gone.text[:500]
    assert "Your account is deleted" in gone.text
    assert '"clean": true' in unescape(gone.text)
    assert 'download="erasure-receipt-alice.json"' in gone.text
    assert alice.get("/api/v1/accounts/verify_credentials").status_code == 401
    assert roost.client.get("/@alice").status_code == 404
    assert browser.get("/settings/data", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/settings/data"),
        ("get", "/settings/import/1"),
        ("get", "/settings/import/1/progress"),
        ("post", "/settings/import"),
        ("post", "/settings/export"),
        ("get", "/settings/export/1"),
        ("get", "/settings/export/1/following_accounts.csv"),
        ("get", "/settings/delete"),
        ("post", "/settings/delete"),
        ("post", "/settings/aliases"),
        ("post", "/settings/aliases/1/remove"),
        ("post", "/settings/move"),
    ],
)
def test_given_a_visitor_then_your_data_pages_send_them_to_sign_in(
    roost: Roost, method: str, path: str
) -> None:
    answer = getattr(roost.client, method)(path, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/auth/sign_in?next=")


def test_given_no_token_then_export_and_delete_do_nothing(roost: Roost) -> None:
    alice = roost.account("alice")
    browser = signed_in_browser(roost, alice)
    token_of(browser, "/settings/data")
    assert browser.post("/settings/export").status_code == 403
    answer = browser.post("/settings/delete", data={"password": PASSWORD, "confirm": "1"})
    assert answer.status_code == 403
    assert alice.get("/api/v1/accounts/verify_credentials").status_code == 200
    assert 'href="/settings/export/' not in browser.get("/settings/data").text


def test_given_another_persons_archive_then_the_import_fails_saying_why_unless_forced(
    roost: Roost, tmp_path: Path
) -> None:
    bob = roost.account("bob")  # the archive is @alice's on Twitter
    browser = signed_in_browser(roost, bob)
    token = token_of(browser, "/settings/data")
    data = rich_archive().builder.write_zip(tmp_path / "a.zip").read_bytes()

    def upload(**fields: str) -> str:
        answer = browser.post(
            f"/settings/import?csrf_token={token}",
            files={"archive": ("twitter.zip", data, "application/zip")},
            data=fields,
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text[:300]
        roost.drain_jobs()
        return str(browser.get(answer.headers["location"] + "/progress").text)

    refused = upload()
    assert "The import failed" in refused and "not @bob" in unescape(refused)
    forced = upload(force="true")
    assert "Import finished" in forced


@pytest.mark.settings(import_max_upload_bytes=64 * 1024)
def test_given_an_archive_over_the_limit_then_it_is_refused_and_nothing_kept(
    roost: Roost, tmp_path: Path
) -> None:
    alice = roost.account("alice")
    browser = signed_in_browser(roost, alice)
    token = token_of(browser, "/settings/data")
    big = b"PK" + bytes(200 * 1024)
    declared = browser.post(
        f"/settings/import?csrf_token={token}",
        files={"archive": ("big.zip", big, "application/zip")},
    )
    assert declared.status_code == 422 and "limit" in declared.text
    # Sent in chunks with no stated length: counted as it arrives, cut off.
    boundary = "roostboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="archive"; '
        'filename="big.zip"\r\nContent-Type: application/zip\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def chunks() -> Any:
        yield head
        for _ in range(20):
            yield bytes(16 * 1024)
        yield tail

    streamed = browser.post(
        f"/settings/import?csrf_token={token}",
        content=chunks(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert streamed.status_code == 422 and "limit" in streamed.text
    assert _uploads(roost) == []
    assert alice.get("/api/v1/roost/imports").json() == []


def test_given_the_moving_forms_then_an_alias_is_named_and_the_account_moves(
    roost: Roost,
) -> None:
    alice, alice2 = roost.account("alice"), roost.account("alice2")
    bob = roost.account("bob")
    bob.follow(alice)
    new_browser = signed_in_browser(roost, alice2)
    token = token_of(new_browser, "/settings/data")
    assert new_browser.post("/settings/aliases", data={"acct": "alice"}).status_code == 403
    unknown = post_form(new_browser, "/settings/aliases", token, acct="@nobody")
    assert unknown.status_code == 422 and "No such account" in unknown.text
    named = post_form(new_browser, "/settings/aliases", token, acct="@alice")
    assert named.status_code == 200 and "alice is now one of your aliases" in named.text
    [alias] = alice2.get("/api/v1/roost/aliases").json()
    assert f'action="/settings/aliases/{alias["id"]}/remove"' in named.text

    browser = signed_in_browser(roost, alice)
    token = token_of(browser, "/settings/data")
    wrong = post_form(browser, "/settings/move", token, acct="alice2", password="not it")
    assert wrong.status_code == 422 and "not your password" in wrong.text
    refused = post_form(browser, "/settings/move", token, acct="bob", password=PASSWORD)
    assert refused.status_code == 422 and "alsoKnownAs" in refused.text
    moved = post_form(browser, "/settings/move", token, acct="alice2", password=PASSWORD)
    assert moved.status_code == 200 and "Your account moved to alice2" in moved.text
    roost.drain_jobs()
    assert "This account moved to alice2" in browser.get("/settings/data").text
    [rel] = bob.get("/api/v1/accounts/relationships", params={"id": alice2.id}).json()
    assert rel["following"] is True

    removed = post_form(
        new_browser,
        f"/settings/aliases/{alias['id']}/remove",
        token_of(new_browser, "/settings/data"),
    )
    assert removed.status_code == 200 and "The alias was removed" in removed.text
    assert alice2.get("/api/v1/roost/aliases").json() == []
