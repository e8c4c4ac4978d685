"""An account's archive: what Mastodon's archive holds, in its formats."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from roost.cli.main import app
from tests.conftest import Roost

runner = CliRunner()


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (12, 12), (0, 90, 40)).save(out, format="PNG")
    return out.getvalue()


def test_given_posts_and_relations_when_the_account_asks_for_its_archive_then_it_has_them_all(
    roost: Roost,
) -> None:
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    alice.follow(bob)
    assert alice.post(f"/api/v1/accounts/{carol.id}/block").status_code == 200
    assert (
        alice.post(f"/api/v1/accounts/{bob.id}/mute", json={"notifications": False}).status_code
        == 200
    )
    made = alice.post("/api/v1/lists", json={"title": "friends"})
    assert made.status_code == 200, made.text
    added = alice.post(
        f"/api/v1/lists/{made.json()['id']}/accounts", json={"account_ids": [bob.id]}
    )
    assert added.status_code == 200, added.text
    upload = alice.post("/api/v2/media", files={"file": ("p.png", _png(), "image/png")})
    assert upload.status_code == 200, upload.text
    public = alice.post_status("hello, archive", media_ids=[upload.json()["id"]])
    direct = alice.post_status("@bob only ours", visibility="direct")
    theirs = bob.post_status("bob writes")
    assert alice.post(f"/api/v1/statuses/{theirs['id']}/favourite").status_code == 200
    assert alice.post(f"/api/v1/statuses/{theirs['id']}/bookmark").status_code == 200
    assert alice.post(f"/api/v1/statuses/{theirs['id']}/reblog").status_code == 200

    requested = alice.post("/api/v1/roost/export")
    assert requested.status_code == 200, requested.text
    export_id = requested.json()["id"]
    assert bob.get(f"/api/v1/roost/export/{export_id}").status_code == 404
    download = alice.get(f"/api/v1/roost/export/{export_id}")
    assert download.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    names = set(archive.namelist())
    assert {"actor.json", "outbox.json", "likes.json", "bookmarks.json"} <= names
    assert any(n.startswith("media_attachments/files/") for n in names)

    actor = json.loads(archive.read("actor.json"))
    assert actor["type"] == "Person" and actor["preferredUsername"] == "alice"
    outbox = json.loads(archive.read("outbox.json"))
    kinds = [item["type"] for item in outbox["orderedItems"]]
    assert kinds.count("Create") == 2 and kinds.count("Announce") == 1
    notes = {
        i["object"]["source"]["content"]: i["object"]
        for i in outbox["orderedItems"]
        if i["type"] == "Create"
    }
    assert notes["hello, archive"]["attachment"][0]["url"] in names
    assert notes["@bob only ours"]["to"] == []  # a direct post: its mentions are its audience
    assert str(direct["id"]) in notes["@bob only ours"]["id"]
    theirs_uri = theirs["uri"]
    assert json.loads(archive.read("likes.json"))["orderedItems"] == [theirs_uri]
    assert json.loads(archive.read("bookmarks.json"))["orderedItems"] == [theirs_uri]
    assert archive.read("bookmarks.csv").decode().split() == [theirs_uri]

    domain = roost.settings.domain
    following = list(csv.reader(io.StringIO(archive.read("following_accounts.csv").decode())))
    assert following[0] == ["Account address", "Show boosts", "Notify on new posts", "Languages"]
    assert following[1][0] == f"bob@{domain}"
    assert archive.read("blocked_accounts.csv").decode().split() == [f"carol@{domain}"]
    muted = list(csv.reader(io.StringIO(archive.read("muted_accounts.csv").decode())))
    assert muted[1] == [f"bob@{domain}", "false"]
    assert archive.read("lists.csv").decode().strip() == f"friends,bob@{domain}"
    assert public["id"] in archive.read("outbox.json").decode()


def test_given_the_cli_then_an_account_is_exported_to_a_file_and_an_unknown_one_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROOST_DATA_DIR", str(tmp_path / "data"))
    args = ["accounts", "create", "alice", "--email", "a@example.org", "--password", "x" * 12]
    assert runner.invoke(app, args).exit_code == 0
    target = tmp_path / "alice.zip"
    done = runner.invoke(app, ["export", "account", "alice", "--to", str(target)])
    assert done.exit_code == 0, done.output
    assert "actor.json" in zipfile.ZipFile(target).namelist()
    missing = runner.invoke(app, ["export", "account", "nobody", "--to", str(tmp_path / "n.zip")])
    assert missing.exit_code == 1 and "no account named nobody" in missing.output
