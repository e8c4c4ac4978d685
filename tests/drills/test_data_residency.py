"""Drill: data residency (threat 17, docs/residency.md).

Two real ``roost serve`` processes federating on loopback: A (the instance
whose stores are searched; embedded SQLite, and PostgreSQL + Redis when
ROOST_TEST_DATABASE_URL is set) and B (embedded). On B, bob signs up through
the API and signs in on the web from a distinctive address and browser,
fills in his profile, and does what a person does: a private note on an
account, a bookmark, a mute, a filter, a list, a picture in a post to nobody
but himself, a direct message to carol on B, a followers-only post and a
public one; he follows alice on A and alice follows him.

Then every store of A is searched for what bob never sent there: every table
of its database (through the schema, with sealed columns opened by A's own
keys, and every table the database holds, raw), every file under its data
directory (the database and its write-ahead log as bytes, the key store,
media), its log, and its Redis keys. Every secret is a random token, so a
match is certain. What bob sent A by his own public actions (his profile,
the posts addressed to alice as his follower) must be found there: that
proves the search sees what it searches. A post he sent and then deleted
must be gone from every table and from the database file at rest.

The second test states what an erasure of bob on B should leave on A:
nothing he sent. Nothing is sent on erasure yet, so it is an expected
failure (strict: it must be unmarked the day it passes).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from roost.config import Settings
from roost.db.engine import Database
from roost.db.tables import metadata
from roost.domain.accounts.actions import NewAccount, do_create_account
from roost.domain.oauth.actions import do_issue_token
from roost.domain.oauth.scopes import parse as parse_scopes
from tests.drills.support import ServerProcess, free_port, roost_env, wait_for
from tests.web.support import csrf

pytestmark = [pytest.mark.slow, pytest.mark.backend]


def _token(kind: str) -> str:
    return f"{kind}{secrets.token_hex(12)}"


class Instance:
    """A running server, its accounts' tokens, and requests on their behalf."""

    def __init__(self, process: ServerProcess, port: int, data_dir: Path) -> None:
        self.process = process
        self.url = process.url
        self.domain = f"127.0.0.1:{port}"
        self.data_dir = data_dir
        self.tokens: dict[str, str] = {}
        self.headers: dict[str, str] = {}

    def call(self, method: str, who: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}", **self.headers}
        return httpx.request(method, self.url + path, headers=headers, timeout=30, **kwargs)

    def ok(self, method: str, who: str, path: str, **kwargs: Any) -> Any:
        answer = self.call(method, who, path, **kwargs)
        assert answer.status_code == 200, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json()

    def resolve(self, who: str, acct: str) -> dict[str, Any]:
        found = self.ok(
            "GET",
            who,
            "/api/v2/search",
            params={"q": f"@{acct}", "resolve": "true", "type": "accounts"},
        )
        [account] = found["accounts"]
        return dict(account)

    def home_has(self, who: str, words: str) -> bool:
        home = self.ok("GET", who, "/api/v1/timelines/home", params={"limit": 40})
        return any(words in post["content"] for post in home)

    def following(self, who: str, account_id: str) -> bool:
        [rel] = self.ok("GET", who, "/api/v1/accounts/relationships", params={"id": account_id})
        return bool(rel["following"])


@pytest.fixture
def servers() -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    yield started
    for server in started:
        server.stop()


def _start_a(settings: Settings, tmp_path: Path, servers: list[ServerProcess]) -> Instance:
    """A on the test's backend; its log at info, so that it holds something."""
    port = free_port()
    values = {
        "data_dir": str(settings.data_dir),
        "secret_key": settings.secret_key,
        "domain": f"127.0.0.1:{port}",
        "federation_allow_insecure": "true",
    }
    if settings.database_url:
        values |= {"database_url": settings.database_url}
        if settings.redis_url:
            values |= {"redis_url": settings.redis_url, "redis_prefix": settings.redis_prefix}
    process = ServerProcess(roost_env(**values), tmp_path / "a.log", log_level="info", port=port)
    servers.append(process)
    return Instance(process, port, settings.data_dir)


def _start_b(tmp_path: Path, servers: list[ServerProcess]) -> Instance:
    port = free_port()
    data_dir = tmp_path / "b"
    env = roost_env(
        data_dir=str(data_dir),
        secret_key="b" * 40,
        domain=f"127.0.0.1:{port}",
        federation_allow_insecure="true",
        registrations="open",
    )
    process = ServerProcess(env, tmp_path / "b.log", log_level="warning", port=port)
    servers.append(process)
    return Instance(process, port, data_dir)


def _local_account(settings: Settings, name: str) -> str:
    """An account on A, made through the real actions in this process (as
    ``roost accounts create`` would, without a process's start); its token."""

    async def create() -> str:
        db = Database(settings)
        try:
            async with db.write() as tx:
                account_id = await do_create_account(
                    tx,
                    NewAccount(
                        username=name,
                        email=f"{name}@example.org",
                        password=f"pw-{name}-123456789",
                    ),
                )
                issued = await do_issue_token(
                    tx, account_id, None, parse_scopes("read write follow")
                )
            return issued.token
        finally:
            await db.dispose()

    return asyncio.run(create())


def _noise_png(size: int = 48) -> bytes:
    """A picture of random pixels: its encoded bytes occur nowhere else."""
    import io

    from PIL import Image

    picture = Image.frombytes("RGB", (size, size), os.urandom(size * size * 3))
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


class Haystack:
    """Everything read from one instance's stores, by where it was found."""

    def __init__(self) -> None:
        self.places: dict[str, bytes] = {}

    def add(self, place: str, value: object) -> None:
        if value is None:
            return
        data = value if isinstance(value, bytes) else str(value).encode("utf-8", "replace")
        self.places[place] = self.places.get(place, b"") + b"\n" + data

    def where(self, needle: str | bytes) -> list[str]:
        if isinstance(needle, bytes):
            return [place for place, data in self.places.items() if needle in data]
        wanted = needle.lower().encode()
        return [place for place, data in self.places.items() if wanted in data.lower()]


def _schema_tables(settings: Settings, into: Haystack) -> None:
    """Every table the schema declares (roost/db/tables.py), read through
    Roost's own engine: sealed columns come out opened with A's keys."""

    async def read() -> None:
        db = Database(settings)
        try:
            async with db.read() as conn:
                for table in metadata.sorted_tables:
                    for row in await conn.execute(select(table)):
                        for column, value in row._mapping.items():
                            into.add(f"table {table.name}.{column}", value)
        finally:
            await db.dispose()

    asyncio.run(read())


def _every_table_raw(settings: Settings, into: Haystack) -> list[str]:
    """Every table the database holds (the schema's, the migrations', the key
    store's, any other), as stored: sealed values stay sealed. Their names."""
    if settings.database_file is not None:
        names = []
        conn = sqlite3.connect(f"file:{settings.database_file}?mode=ro", uri=True)
        try:
            names = [
                name
                for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
            for name in names:
                for row in conn.execute(f'SELECT * FROM "{name}"'):
                    for value in row:
                        into.add(f"raw table {name}", value)
        finally:
            conn.close()
        return names

    async def read() -> list[str]:
        db = Database(settings)
        try:
            async with db.read() as conn:
                found = [
                    str(name)
                    for (name,) in await conn.execute(
                        text(
                            "SELECT table_name FROM information_schema.tables"
                            " WHERE table_schema = current_schema()"
                            " AND table_type = 'BASE TABLE'"
                        )
                    )
                ]
                for name in found:
                    rows = await conn.execute(text(f'SELECT t::text FROM "{name}" t'))
                    for (value,) in rows:
                        into.add(f"raw table {name}", value)
            return found
        finally:
            await db.dispose()

    return asyncio.run(read())


def _files(root: Path, into: Haystack, label: str) -> int:
    count = 0
    for path in sorted(root.rglob("*")):
        if path.is_file():
            into.add(f"{label} {path.relative_to(root)}", path.read_bytes())
            count += 1
    return count


def _redis(settings: Settings, into: Haystack) -> int:
    import redis

    client = redis.Redis.from_url(settings.redis_url)
    count = 0
    try:
        for key in client.scan_iter(match=settings.redis_prefix + "*", count=1000):
            count += 1
            place = f"redis {key.decode(errors='replace')}"
            into.add(place, key)
            kind = client.type(key).decode()
            if kind == "string":
                into.add(place, client.get(key))
            elif kind == "hash":
                for field, value in client.hgetall(key).items():
                    into.add(place, field + b"=" + value)
            elif kind == "list":
                for value in client.lrange(key, 0, -1):
                    into.add(place, value)
            elif kind == "set":
                for value in client.smembers(key):
                    into.add(place, value)
            elif kind == "zset":
                for value, score in client.zrange(key, 0, -1, withscores=True):
                    into.add(place, value + f" {score}".encode())
            elif kind == "stream":
                for entry_id, fields in client.xrange(key):
                    into.add(place, entry_id)
                    for field, value in fields.items():
                        into.add(place, field + b"=" + value)
            else:
                into.add(place, client.dump(key))
    finally:
        client.close()
    return count


def _b_rows(b: Instance, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{b.data_dir / 'roost.sqlite3'}?mode=ro", uri=True)
    try:
        return list(conn.execute(sql))
    finally:
        conn.close()


def _queued_federation_jobs(b: Instance, a_settings: Settings) -> int:
    waiting = _b_rows(
        b,
        # The end of an erasure's farewell window is queued for days later.
        "SELECT count(*) FROM jobs WHERE state = 'queued' AND kind LIKE 'federation.%'"
        " AND kind != 'federation.farewell.end'",
    )
    count = int(waiting[0][0])

    async def on_a() -> int:
        db = Database(a_settings)
        try:
            async with db.read() as conn:
                found = await conn.execute(
                    text(
                        "SELECT count(*) FROM jobs WHERE state = 'queued'"
                        " AND kind LIKE 'federation.%'"
                    )
                )
                return int(found.scalar_one())
        finally:
            await db.dispose()

    return count + asyncio.run(on_a())


def test_given_bob_on_b_federating_with_a_when_a_is_searched_then_only_what_he_sent_a_is_there(
    settings: Settings, tmp_path: Path, servers: list[ServerProcess]
) -> None:
    a = _start_a(settings, tmp_path, servers)
    b = _start_b(tmp_path, servers)
    a.tokens["alice"] = _local_account(settings, "alice")

    secret = {
        "e-mail": f"{_token('mail')}@example.org",
        "password": _token("pass"),
        "address": f"2001:db8:{secrets.token_hex(2)}::{secrets.token_hex(2)}",
        "browser": f"ResidencyBrowser/{_token('ua')}",
        "private note": _token("note"),
        "filter keyword": _token("filter"),
        "list title": _token("list"),
        "picture description": _token("alt"),
        "post to himself": _token("self"),
        "direct message": _token("dm"),
    }
    sent = {
        "display name": _token("name"),
        "bio": _token("bio"),
        "public post": _token("public"),
        "followers-only post": _token("followers"),
    }

    # Bob signs up on B through the API, from his own address and browser.
    b.headers = {"X-Forwarded-For": secret["address"], "User-Agent": secret["browser"]}
    with httpx.Client(base_url=b.url, headers=b.headers, timeout=30) as http:
        app = http.post(
            "/api/v1/apps",
            json={
                "client_name": "residency",
                "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                "scopes": "read write follow",
            },
        ).json()
        app_token = http.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "scope": "read write follow",
            },
        ).json()["access_token"]
        signed_up = http.post(
            "/api/v1/accounts",
            headers={"Authorization": f"Bearer {app_token}"},
            json={
                "username": "bob",
                "email": secret["e-mail"],
                "password": secret["password"],
                "agreement": True,
            },
        )
        assert signed_up.status_code == 200, signed_up.text
        b.tokens["bob"] = signed_up.json()["access_token"]
        # Carol, whom bob writes to, signs up too (she need not confirm to be
        # written to).
        carol = http.post(
            "/api/v1/accounts",
            headers={"Authorization": f"Bearer {app_token}"},
            json={
                "username": "carol",
                "email": "carol@example.org",
                "password": "carol's long password",
                "agreement": True,
            },
        )
        assert carol.status_code == 200, carol.text
        b.process.cli("accounts", "confirm", "bob")
        # And signs in on the web (a session, with its address and browser).
        form = http.get("/auth/sign_in")
        signed_in = http.post(
            "/auth/sign_in",
            data={
                "csrf_token": csrf(form.text),
                "login": secret["e-mail"],
                "password": secret["password"],
                "next": "/",
            },
            follow_redirects=False,
        )
        assert signed_in.status_code == 303, signed_in.text
        session = http.cookies.get("roost_session")
        assert session
    secret |= {
        "sign-up token": b.tokens["bob"],
        "app token": app_token,
        "app secret": app["client_secret"],
        "web session": session,
    }

    b.ok(
        "PATCH",
        "bob",
        "/api/v1/accounts/update_credentials",
        data={"display_name": sent["display name"], "note": sent["bio"]},
    )

    # Alice on A follows bob; bob follows alice.
    bob_on_a = a.resolve("alice", f"bob@{b.domain}")
    a.ok("POST", "alice", f"/api/v1/accounts/{bob_on_a['id']}/follow")
    wait_for(lambda: a.following("alice", bob_on_a["id"]), 30, "B's Accept of alice's follow")
    alice_on_b = b.resolve("bob", f"alice@{a.domain}")
    b.ok("POST", "bob", f"/api/v1/accounts/{alice_on_b['id']}/follow")
    wait_for(lambda: b.following("bob", alice_on_b["id"]), 30, "A's Accept of bob's follow")

    # What bob keeps to himself on B, some of it about people on A.
    hello = _token("hello")
    a.ok("POST", "alice", "/api/v1/statuses", json={"status": hello})
    wait_for(lambda: b.home_has("bob", hello), 30, "alice's post in bob's home on B")
    [alice_post] = [
        p for p in b.ok("GET", "bob", "/api/v1/timelines/home") if hello in p["content"]
    ]
    b.ok("POST", "bob", f"/api/v1/statuses/{alice_post['id']}/bookmark")
    b.ok("POST", "bob", f"/api/v1/accounts/{alice_on_b['id']}/mute")
    b.ok(
        "POST",
        "bob",
        f"/api/v1/accounts/{alice_on_b['id']}/note",
        json={"comment": secret["private note"]},
    )
    b.ok(
        "POST",
        "bob",
        "/api/v2/filters",
        json={
            "title": "quiet",
            "context": ["home"],
            "keywords_attributes": [{"keyword": secret["filter keyword"]}],
        },
    )
    listed = b.ok("POST", "bob", "/api/v1/lists", json={"title": secret["list title"]})
    b.ok(
        "POST",
        "bob",
        f"/api/v1/lists/{listed['id']}/accounts",
        json={"account_ids": [alice_on_b["id"]]},
    )
    picture = _noise_png()
    media = b.ok(
        "POST",
        "bob",
        "/api/v2/media",
        files={"file": ("private.png", picture, "image/png")},
        data={"description": secret["picture description"]},
    )
    b.ok(
        "POST",
        "bob",
        "/api/v1/statuses",
        json={
            "status": secret["post to himself"],
            "visibility": "direct",
            "media_ids": [media["id"]],
        },
    )
    b.ok(
        "POST",
        "bob",
        "/api/v1/statuses",
        json={"status": f"@carol {secret['direct message']}", "visibility": "direct"},
    )
    # What bob sends A: posts alice, his follower there, is to read.
    b.ok(
        "POST",
        "bob",
        "/api/v1/statuses",
        json={"status": sent["followers-only post"], "visibility": "private"},
    )
    b.ok("POST", "bob", "/api/v1/statuses", json={"status": sent["public post"]})
    # And one he sends, then takes back: deleted, it leaves A too.
    withdrawn = _token("withdrawn")
    taken_back = b.ok("POST", "bob", "/api/v1/statuses", json={"status": withdrawn})
    for words in (sent["followers-only post"], sent["public post"], withdrawn):
        wait_for(lambda words=words: a.home_has("alice", words), 30, "bob's post on A")
    b.ok("DELETE", "bob", f"/api/v1/statuses/{taken_back['id']}")
    wait_for(lambda: not a.home_has("alice", withdrawn), 30, "the deletion on A")
    wait_for(lambda: _queued_federation_jobs(b, settings) == 0, 30, "no delivery waiting")

    # B holds what it should (so its absence from A means something): the
    # session's address and browser, the stored picture, the hashes.
    [(ip, browser)] = _b_rows(b, "SELECT ip, user_agent FROM web_sessions")
    assert (ip, browser) == (secret["address"], secret["browser"])
    [(password_hash, email_key)] = _b_rows(
        b,
        "SELECT password_hash, email_key FROM users JOIN accounts ON accounts.id = account_id"
        " WHERE username = 'bob' AND domain IS NULL",
    )
    secret |= {"password hash": password_hash, "e-mail index": email_key}
    for table in ("web_sessions", "oauth_tokens"):
        for (token_hash,) in _b_rows(b, f"SELECT token_hash FROM {table}"):
            secret[f"{table} hash {token_hash[:8]}"] = token_hash
    media_files = [p for p in (b.data_dir / "media").rglob("*") if p.is_file()]
    assert media_files, "B stored the picture"
    pieces: dict[str, bytes] = {}
    for path in [*media_files, None]:
        data = picture if path is None else path.read_bytes()
        name = "the upload" if path is None else path.name
        if path is not None:
            secret[f"media file name {name}"] = name
        for n, offset in enumerate(range(len(data) // 4, len(data) - 64, max(len(data) // 6, 64))):
            pieces[f"bytes of {name} #{n}"] = data[offset : offset + 48]
    assert pieces

    # A's stores, while it runs (the write-ahead log holds the latest writes).
    found = Haystack()
    _schema_tables(settings, found)
    raw_tables = _every_table_raw(settings, found)
    assert {t.name for t in metadata.sorted_tables} <= set(raw_tables)
    assert _files(settings.data_dir, found, "live file") > 0
    if settings.key_store_path.exists() and not settings.key_store_path.is_relative_to(
        settings.data_dir
    ):
        found.add("key store", settings.key_store_path.read_bytes())
    if settings.redis_url:
        assert _redis(settings, found) > 0
    # And again once A has stopped (the database checkpointed into its file).
    a.process.stop()
    _files(settings.data_dir, found, "file at rest")
    found.add("A's log", a.process.log())
    if settings.database_file is not None:
        assert found.where(b"SQLite format 3"), "the raw database file was read"

    # What bob sent A is there: the search sees what it searches. Through
    # the schema, sealed columns opened; and as stored, his display name
    # (not sealed) in the raw table and in the database file.
    for what, words in sent.items():
        assert any(p.startswith("table ") for p in found.where(words)), f"{what} not on A"
    places = found.where(sent["display name"])
    assert any(p.startswith("raw table accounts") for p in places), places
    if settings.database_file is not None:
        assert any(p.startswith("file at rest roost.sqlite3") for p in places), places
    # What bob never sent A is nowhere in it.
    leaks = {what: found.where(words) for what, words in secret.items()}
    leaks |= {what: found.where(piece) for what, piece in pieces.items()}
    # The post he deleted is gone from every table and file at rest (the live
    # write-ahead log may hold old pages until its next checkpoint).
    leaks["deleted post"] = [p for p in found.where(withdrawn) if not p.startswith("live file")]
    assert {what: places for what, places in leaks.items() if places} == {}

    # Nor are the facts of his bookmark, mute, note or list: no one on A made
    # any, so these tables are empty there.
    async def count_facts() -> None:
        db = Database(settings)
        try:
            async with db.read() as conn:
                for name in (
                    "bookmarks",
                    "mutes",
                    "account_notes",
                    "lists",
                    "list_accounts",
                    "filters",
                    "filter_keywords",
                    "web_sessions",
                ):
                    rows = (await conn.execute(select(metadata.tables[name]))).all()
                    assert rows == [], name
        finally:
            await db.dispose()

    asyncio.run(count_facts())
    assert "Traceback" not in b.process.log() + a.process.log()


# What this asks is what B sends when it erases: A's backend changes nothing.
@pytest.mark.parametrize("backend", ["sqlite"])
def test_given_bob_erased_on_b_when_a_is_searched_then_nothing_he_sent_a_is_left(
    settings: Settings, tmp_path: Path, servers: list[ServerProcess]
) -> None:
    a = _start_a(settings, tmp_path, servers)
    b = _start_b(tmp_path, servers)
    a.tokens["alice"] = _local_account(settings, "alice")
    b.process.cli(
        "accounts", "create", "bob", "--email", "bob@example.org", "--password", _token("pw")
    )
    b.tokens["bob"] = b.process.cli("tokens", "create", "bob").strip()
    name, words = _token("name"), _token("public")
    b.ok("PATCH", "bob", "/api/v1/accounts/update_credentials", data={"display_name": name})
    bob_on_a = a.resolve("alice", f"bob@{b.domain}")
    a.ok("POST", "alice", f"/api/v1/accounts/{bob_on_a['id']}/follow")
    wait_for(lambda: a.following("alice", bob_on_a["id"]), 30, "B's Accept of alice's follow")
    b.ok("POST", "bob", "/api/v1/statuses", json={"status": words})
    wait_for(lambda: a.home_has("alice", words), 30, "bob's post on A")

    # When bob is erased on B.
    b.process.cli("accounts", "erase", "bob", "--yes")
    wait_for(lambda: _queued_federation_jobs(b, settings) == 0, 30, "no delivery waiting")

    # Then A holds neither his post nor his profile.
    found = Haystack()
    _schema_tables(settings, found)
    _every_table_raw(settings, found)
    assert found.where(words) == [] and found.where(name) == []
