"""Drill (threats 49, 18): an erased account's content must be gone everywhere.

A canary is spread through every store: a public post with a picture (alt text
included), an edited version, a direct message, a boost, a bookmark, a
favourite, a reply, notifications, the search index, cached home timelines.
After `erase_account` the receipt's scan finds it nowhere live, the others'
views no longer show it, and (SQLite) the database file and its WAL do not hold
its bytes.

Old backups: the account's content is sealed under its own key, kept in a key
store outside the data backups (crypto-shredding, docs/operations.md
"Erasure"). A backup taken before the erasure is read as an attacker holding
it and its encryption key would: every member decrypted, the PostgreSQL dump
turned back into SQL text, and scanned for the canary, the canary address and
the canary picture's bytes. Then it is restored and read through the API:
the erased account's posts, direct message, picture and address do not open,
while another account's posts in the same backup do (so losing keys wholesale
would fail the drill, not pass it).
"""

from __future__ import annotations

import asyncio
import io
import json
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from roost.config import Settings
from roost.db.engine import Database
from roost.db.tables import users
from roost.domain.accounts.actions import NewAccount, do_create_account
from roost.domain.oauth.actions import do_issue_token
from roost.domain.oauth.scopes import parse as parse_scopes
from roost.erasure.erase import Receipt, erase_account
from roost.media.store import media_root
from roost.ops import pgtools
from roost.ops.backup import create_backup, media_files
from roost.ops.crypto import new_key_file
from roost.ops.restore import extract_backup, restore_backup
from roost.ops.snapshot import PG_MEMBER
from roost.services import Services
from tests.conftest import Roost, User

pytestmark = pytest.mark.slow


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 20), (250, 200, 0)).save(out, format="PNG")
    return out.getvalue()


def _services(roost: Roost) -> Services:
    services: Services = roost.client.app.state.services  # type: ignore[attr-defined]
    return services


def _account(roost: Roost, username: str, email: str) -> User:
    """An account with a chosen address (Roost.account gives name@example.org)."""

    async def create() -> tuple[int, str]:
        async with roost.db.write() as tx:
            account_id = await do_create_account(
                tx, NewAccount(username=username, email=email, password="correct horse battery")
            )
            issued = await do_issue_token(tx, account_id, None, parse_scopes("read write follow"))
        return account_id, issued.token

    account_id, token = roost.run(create)
    return User(roost, username, str(account_id), token)


def _spread(
    roost: Roost, canary: str, alice: User | None = None
) -> tuple[User, User, dict[str, Any]]:
    alice = alice or roost.account("alice")
    bob, carol = roost.account("bob"), roost.account("carol")
    bob.follow(alice)
    alice.follow(bob)
    upload = alice.post(
        "/api/v2/media",
        files={"file": ("canary.png", _png(), "image/png")},
        data={"description": f"{canary} in the alt text"},
    )
    assert upload.status_code == 200, upload.text
    public = alice.post_status(f"{canary} said in public", media_ids=[upload.json()["id"]])
    edited = alice.put(f"/api/v1/statuses/{public['id']}", json={"status": f"{canary} edited"})
    assert edited.status_code == 200, edited.text
    direct = alice.post_status(f"@bob {canary} just between us", visibility="direct")
    assert bob.post(f"/api/v1/statuses/{public['id']}/reblog").status_code == 200
    assert bob.post(f"/api/v1/statuses/{public['id']}/bookmark").status_code == 200
    assert carol.post(f"/api/v1/statuses/{public['id']}/favourite").status_code == 200
    reply = bob.post_status("@alice well put", in_reply_to_id=public["id"])
    roost.drain_jobs()
    # Every place holds it before the erasure, or the drill proves nothing.
    home = bob.get("/api/v1/timelines/home").text
    assert canary in home
    notifications = bob.get("/api/v1/notifications").json()
    assert any(n["account"]["id"] == alice.id for n in notifications)
    found = alice.get("/api/v2/search", params={"q": canary, "type": "statuses"}).json()
    assert found["statuses"], "the search index does not have the canary"
    posts = {"public": public, "direct": direct, "reply": reply, "media": upload.json()}
    return alice, bob, posts


def _erase(roost: Roost, account_id: str) -> Receipt:
    return roost.run(lambda: erase_account(_services(roost), int(account_id)))


def _file_bytes_hold(paths: list[Path], needle: bytes) -> list[str]:
    return [p.name for p in paths if p.is_file() and needle in p.read_bytes()]


def test_given_a_canary_everywhere_when_the_account_is_erased_then_no_live_store_holds_it(
    roost: Roost,
) -> None:
    canary = f"canary-{secrets.token_hex(8)}"
    alice, bob, posts = _spread(roost, canary)
    files_before = {name for name, _ in media_files(media_root(roost.settings))}
    assert files_before

    receipt = _erase(roost, alice.id)

    live = {store: hits for store, hits in receipt.hits.items() if store != "backups"}
    assert all(not hits for hits in live.values()), live
    assert receipt.tables["statuses"] >= 3 and receipt.tables["users"] == 1
    assert "FAILED" not in " ".join(receipt.stores.values()), receipt.stores
    public_id = posts["public"]["id"]
    assert bob.get(f"/api/v1/statuses/{public_id}").status_code == 404
    assert bob.get(f"/api/v1/statuses/{posts['direct']['id']}").status_code == 404
    for path in (
        "/api/v1/timelines/home",
        "/api/v1/bookmarks",
        "/api/v1/notifications",
        "/api/v1/conversations",
        f"/api/v1/statuses/{posts['reply']['id']}",
        "/api/v1/timelines/public",
    ):
        answer = bob.get(path)
        assert canary not in answer.text and public_id not in answer.text, path
    assert bob.get(f"/api/v1/statuses/{posts['reply']['id']}").json()["in_reply_to_id"] is None
    searched = bob.get("/api/v2/search", params={"q": canary, "type": "statuses"}).json()
    assert searched["statuses"] == []
    assert bob.get(f"/api/v1/accounts/{alice.id}").status_code == 404
    # The picture's file is gone from the media store.
    assert {name for name, _ in media_files(media_root(roost.settings))} == set()
    if roost.settings.is_sqlite:
        database = roost.settings.data_dir / "roost.sqlite3"
        files = [database, Path(f"{database}-wal")]
        assert _file_bytes_hold(files, canary.encode()) == []


def _readable_backup(settings: Settings, backup: Path, key_file: Path, into: Path) -> list[Path]:
    """Every file of the backup as its holder (with its key) reads it: the
    members decrypted and extracted, a pg_dump turned back into SQL text
    (its custom format is compressed, so a raw scan would find nothing)."""
    extract_backup(backup, into, key_file)
    files = [p for p in into.rglob("*") if p.is_file()]
    dump = into / PG_MEMBER
    if dump.is_file():
        script = into / "dump.sql"
        subprocess.run(
            [pgtools.tool(settings, "pg_restore"), f"--file={script}", str(dump)], check=True
        )
        files.append(script)
    return files


def _hits(files: list[Path], needles: dict[str, bytes]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in files:
        data = path.read_bytes()
        for label, needle in needles.items():
            if needle in data:
                found.setdefault(label, []).append(path.name)
    return found


_READER = """
import json, sys
from fastapi.testclient import TestClient
from roost.app import create_app
from roost.config import load_settings

settings = load_settings(**json.loads(sys.argv[1]))
token, ids, picture = sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
headers = {"Authorization": "Bearer " + token}
shown = {}
with TestClient(create_app(settings)) as client:
    for status_id in ids:
        shown[status_id] = client.get("/api/v1/statuses/" + status_id, headers=headers).text
    shown["history"] = client.get(
        "/api/v1/statuses/" + ids[0] + "/history", headers=headers
    ).text
    for path in ("/api/v1/timelines/home", "/api/v1/conversations", "/api/v1/bookmarks"):
        shown[path] = client.get(path, headers=headers).text
    shown["picture"] = str(client.get(picture, headers=headers).status_code)
print(json.dumps(shown))
"""


def _read_in_new_process(
    settings: Settings, token: str, ids: list[str], picture: str
) -> dict[str, str]:
    """What the API answers, from a new process on these settings."""
    fields = ("data_dir", "database_url", "secret_key", "redis_url", "redis_prefix")
    wanted = {**settings.model_dump(mode="json", include=set(fields)), "run_jobs_in_process": False}
    done = subprocess.run(
        [sys.executable, "-c", _READER, json.dumps(wanted), token, json.dumps(ids), picture],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    shown: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
    return shown


async def _emails(settings: Settings) -> dict[int, str]:
    db = Database(settings)
    try:
        async with db.read() as conn:
            rows = await conn.execute(select(users.c.account_id, users.c.email))
            return {int(r.account_id): r.email for r in rows}
    finally:
        await db.dispose()


def test_given_a_backup_taken_before_an_erasure_then_the_erased_content_is_unreadable_in_it(
    roost: Roost, tmp_path: Path
) -> None:
    canary = f"canary-{secrets.token_hex(8)}"
    email = f"{canary}@example.org"
    # A name stored in the clear: the scan must find it, or it reads nothing.
    username = f"al{secrets.token_hex(6)}"
    alice, bob, posts = _spread(roost, canary, _account(roost, username, email))
    control = f"control-{secrets.token_hex(8)}"
    kept = bob.post_status(f"{control} stays readable")
    picture_url = posts["media"]["url"]
    picture = alice.get(picture_url).content
    assert picture.startswith(b"\x89PNG"), "the picture was not served before the erasure"
    key_file = tmp_path / "backup.key"
    new_key_file(key_file)
    older = asyncio.run(create_backup(roost.settings, to=tmp_path / "older", key_file=key_file))

    receipt = _erase(roost, alice.id)
    assert "destroyed" in receipt.stores["account key"], receipt.stores
    assert receipt.hits["account key"] == [], receipt.hits

    # (a) The old backup, as bytes: nothing of the erased account's content.
    files = _readable_backup(roost.settings, older.path, key_file, tmp_path / "read")
    needles = {
        "canary": canary.encode(),
        "email": email.encode(),
        "picture": picture[len(picture) // 2 : len(picture) // 2 + 48],
        "username": username.encode(),
    }
    assert _hits(files, needles).keys() == {"username"}, _hits(files, needles)

    # (b) Restored, and read the way Roost reads: the erased posts do not open.
    asyncio.run(
        restore_backup(
            roost.settings,
            older.path,
            key_file=key_file,
            force=True,
            safety_dir=tmp_path / "safety",
        )
    )
    # Read in a new process, as after a real restore (Roost is stopped for
    # one): nothing this process remembers can stand in for the key store.
    ids = {name: posts[name]["id"] for name in ("public", "direct", "reply")}
    shown = _read_in_new_process(
        roost.settings, bob.token, [*ids.values(), kept["id"]], picture_url
    )
    for name, status_id in ids.items():
        assert canary not in shown[status_id], name
    assert '"content":""' in shown[ids["public"]].replace(" ", "")
    for path in ("history", "/api/v1/timelines/home", "/api/v1/conversations", "/api/v1/bookmarks"):
        assert canary not in shown[path], path
    # The picture's file came back with the backup, but does not open.
    assert shown["picture"] == "404"
    # (c) The control: another account's post in the same backup opens.
    assert control in shown[kept["id"]]
    emails = asyncio.run(_emails(roost.settings))
    assert emails[int(alice.id)] == ""
    assert emails[int(bob.id)] == "bob@example.org"
