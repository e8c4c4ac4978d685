"""Local posts that mention accounts of other servers: the mention linked and
listed, and where the post is sent by its visibility
(roost/domain/federation/notes.py ``destination_inboxes``,
roost/domain/federation/mentions.py).

The other servers' inboxes all lie on one plain HTTP server of the test's
own, under a path per server (``/b/inbox``, ``/b/users/erin/inbox``...),
which records every delivery it is sent and answers WebFinger and actors
for the accounts looked up by name."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest
from sqlalchemy import insert, update

from roost.clock import utcnow
from roost.db.tables import follows, jobs, scheduled_statuses
from roost.domain.blocks.domains import BlockChange, do_block_domain
from roost.domain.federation.notes import PUBLIC, destination_inboxes
from roost.domain.federation.remote import store_actor
from roost.domain.statuses.content import RemoteMention, remote_mentions, render
from roost.ids import new_id
from roost.net import signatures
from tests.conftest import Roost, User

pytestmark = pytest.mark.settings(federation_allow_insecure=True)
AP = "application/activity+json"


@dataclass
class Recorder:
    """Other servers' inboxes: what each path was sent."""

    base: str = ""
    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def domain(self) -> str:
        return self.base.removeprefix("http://")

    def paths(self) -> list[str]:
        return sorted(path for path, _ in self.sent)

    def actor(self, name: str) -> dict[str, Any]:
        uri = f"{self.base}/users/{name}"
        return {
            "id": uri,
            "type": "Person",
            "preferredUsername": name,
            "url": f"{self.base}/@{name}",
            "inbox": f"{uri}/inbox",
            "endpoints": {"sharedInbox": f"{self.base}/inbox"},
            "publicKey": {
                "id": f"{uri}#main-key",
                "owner": uri,
                "publicKeyPem": signatures.public_pem(signatures.generate_private_key()),
            },
        }


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    found = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", AP)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError):
                self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path.startswith("/.well-known/webfinger?resource=acct:"):
                name = self.path.split("acct:", 1)[1].split("@", 1)[0]
                href = f"{found.base}/users/{name}"
                self._answer(
                    200, orjson.dumps({"links": [{"rel": "self", "type": AP, "href": href}]})
                )
            elif self.path.startswith("/users/"):
                self._answer(200, orjson.dumps(found.actor(self.path.split("/")[2])))
            else:
                self._answer(404, b"{}")

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            assert "Signature" in self.headers
            found.sent.append((self.path, orjson.loads(body)))
            self._answer(202, b"")

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    found.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield found
    finally:
        httpd.shutdown()
        httpd.server_close()


def _remote(
    roost: Roost, recorder: Recorder, server: str, name: str, *, shared: bool = True
) -> int:
    """Store ``name@SERVER.example``: its id is there, its inboxes on the recorder."""
    uri = f"https://{server}.example/users/{name}"
    document = {
        "id": uri,
        "type": "Person",
        "preferredUsername": name,
        "url": f"https://{server}.example/@{name}",
        "inbox": f"{recorder.base}/{server}/users/{name}/inbox",
        "followers": f"{uri}/followers",
    }
    if shared:
        document["endpoints"] = {"sharedInbox": f"{recorder.base}/{server}/inbox"}

    async def store() -> int:
        return await store_actor(roost.db, document)

    return roost.run(store)


def _follows(roost: Roost, follower_id: int, user: User) -> None:
    async def write() -> None:
        async with roost.db.write() as tx:
            await tx.execute(
                insert(follows).values(
                    id=new_id(),
                    account_id=follower_id,
                    target_account_id=int(user.id),
                    show_reblogs=True,
                    notify=False,
                    created_at=utcnow(),
                )
            )

    roost.run(write)


def _inboxes(roost: Roost, status_id: str) -> list[str]:
    async def read() -> list[str]:
        return await destination_inboxes(roost.db, int(status_id))

    return roost.run(read)


@pytest.fixture
def world(roost: Roost, recorder: Recorder) -> dict[str, Any]:
    """alice here, followed by bob@b (B has a shared inbox) and carol@c (C
    has none); dora@d (D has a shared inbox) and erin@b follow nobody here."""
    alice = roost.account("alice")
    accounts = {
        "bob": _remote(roost, recorder, "b", "bob"),
        "carol": _remote(roost, recorder, "c", "carol", shared=False),
        "dora": _remote(roost, recorder, "d", "dora"),
        "erin": _remote(roost, recorder, "b", "erin"),
    }
    _follows(roost, accounts["bob"], alice)
    _follows(roost, accounts["carol"], alice)
    return {"alice": alice, **accounts}


@pytest.mark.parametrize("visibility", ["public", "unlisted", "private"])
def test_given_followers_elsewhere_when_a_post_mentions_strangers_then_their_own_inboxes_too(
    roost: Roost, recorder: Recorder, world: dict[str, Any], visibility: str
) -> None:
    alice: User = world["alice"]
    post = alice.post_status("hi @dora@d.example and @erin@b.example", visibility=visibility)
    roost.drain_jobs()

    base = recorder.base
    # B once (its shared inbox: bob follows, and it names erin there), C by
    # carol's own inbox (no shared one), D by dora's own inbox (she follows
    # nobody here: not D's shared inbox).
    expected = sorted(
        [f"{base}/b/inbox", f"{base}/c/users/carol/inbox", f"{base}/d/users/dora/inbox"]
    )
    assert _inboxes(roost, post["id"]) == expected
    assert recorder.paths() == sorted(u.removeprefix(base) for u in expected)
    activity = recorder.sent[0][1]
    note = activity["object"]
    named = {"https://d.example/users/dora", "https://b.example/users/erin"}
    followers = f"{roost.settings.base_url}/users/alice/followers"
    to, cc = set(note["to"]), set(note["cc"])
    if visibility == "public":
        assert (to, cc) == ({PUBLIC}, {followers, *named})
    elif visibility == "unlisted":
        assert (to, cc) == ({followers}, {PUBLIC, *named})
    else:
        assert (to, cc) == ({followers}, named)
    assert {(t["type"], t["href"], t["name"]) for t in note["tag"]} == {
        ("Mention", "https://d.example/users/dora", "@dora@d.example"),
        ("Mention", "https://b.example/users/erin", "@erin@b.example"),
    }
    # The mention is linked to the account's own page and listed with its acct.
    assert (
        '<span class="h-card"><a href="https://d.example/@dora" '
        'class="u-url mention">@<span>dora</span></a></span>'
    ) in post["content"]
    assert sorted(m["acct"] for m in post["mentions"]) == ["dora@d.example", "erin@b.example"]
    assert {m["url"] for m in post["mentions"]} == {
        "https://d.example/@dora",
        "https://b.example/@erin",
    }


def test_given_a_public_post_mentioning_someone_elsewhere_then_its_note_here_names_them(
    roost: Roost, recorder: Recorder, world: dict[str, Any]
) -> None:
    post = world["alice"].post_status("hi @dora@d.example")
    answer = roost.client.get(f"/users/alice/statuses/{post['id']}", headers={"Accept": AP})
    assert answer.status_code == 200
    note = answer.json()
    assert "https://d.example/users/dora" in note["cc"]
    assert {
        "type": "Mention",
        "href": "https://d.example/users/dora",
        "name": "@dora@d.example",
    } in (note["tag"])


def test_given_followers_elsewhere_when_a_direct_post_then_only_the_mentioned_own_inboxes(
    roost: Roost, recorder: Recorder, world: dict[str, Any]
) -> None:
    alice: User = world["alice"]
    post = alice.post_status("psst @dora@d.example @erin@b.example", visibility="direct")
    roost.drain_jobs()

    base = recorder.base
    # Never a shared inbox (not B's, where bob follows; not D's), never C.
    expected = sorted([f"{base}/b/users/erin/inbox", f"{base}/d/users/dora/inbox"])
    assert _inboxes(roost, post["id"]) == expected
    assert recorder.paths() == ["/b/users/erin/inbox", "/d/users/dora/inbox"]
    for _, activity in recorder.sent:
        note = activity["object"]
        named = {"https://d.example/users/dora", "https://b.example/users/erin"}
        assert set(activity["to"]) == set(note["to"]) == named
        assert activity["cc"] == note["cc"] == []
        flat = orjson.dumps(activity).decode()
        assert PUBLIC not in flat and "/followers" not in flat
    assert post["visibility"] == "direct"
    assert sorted(m["acct"] for m in post["mentions"]) == ["dora@d.example", "erin@b.example"]
    # It is in alice's conversation with them.
    [conversation] = alice.get("/api/v1/conversations").json()
    assert sorted(a["acct"] for a in conversation["accounts"]) == [
        "dora@d.example",
        "erin@b.example",
    ]


def test_given_a_direct_post_that_names_nobody_elsewhere_then_nothing_is_sent(
    roost: Roost, recorder: Recorder, world: dict[str, Any]
) -> None:
    roost.account("frank")
    post = world["alice"].post_status("just @frank and @nobody@d.example", visibility="direct")
    roost.drain_jobs()

    assert _inboxes(roost, post["id"]) == []
    assert recorder.sent == []
    assert [m["acct"] for m in post["mentions"]] == ["frank"]
    assert "@nobody@d.example" in post["content"]  # unknown: plain text


def test_given_a_followers_only_post_then_no_server_without_a_follower_or_a_mention_gets_it(
    roost: Roost, recorder: Recorder, world: dict[str, Any]
) -> None:
    post = world["alice"].post_status("for my followers", visibility="private")
    roost.drain_jobs()

    assert recorder.paths() == ["/b/inbox", "/c/users/carol/inbox"]  # not D
    assert _inboxes(roost, post["id"]) == [
        f"{recorder.base}/b/inbox",
        f"{recorder.base}/c/users/carol/inbox",
    ]


def test_given_an_account_not_known_here_when_mentioned_then_it_is_looked_up_and_linked(
    roost: Roost, recorder: Recorder
) -> None:
    alice = roost.account("alice")
    post = alice.post_status(f"hello @zed@{recorder.domain}", visibility="direct")
    roost.drain_jobs()

    [mention] = post["mentions"]
    assert mention["acct"] == f"zed@{recorder.domain}"
    assert f'href="{recorder.base}/@zed"' in post["content"]
    assert recorder.paths() == ["/users/zed/inbox"]  # its own inbox, not /inbox


def test_given_a_scheduled_post_naming_an_unknown_account_when_due_then_it_is_looked_up_and_sent(
    roost: Roost, recorder: Recorder
) -> None:
    alice = roost.account("alice")
    at = (utcnow() + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    scheduled = alice.post(
        "/api/v1/statuses",
        json={
            "status": f"later @zed@{recorder.domain}",
            "scheduled_at": at,
            "visibility": "direct",
        },
    )
    assert scheduled.status_code == 200, scheduled.text
    assert recorder.sent == []

    async def make_due() -> None:
        past = utcnow() - timedelta(seconds=1)
        async with roost.db.write() as tx:
            await tx.execute(update(scheduled_statuses).values(scheduled_at=past))
            await tx.execute(
                update(jobs).where(jobs.c.kind == "scheduled.publish").values(run_at=past)
            )

    roost.run(make_due)
    roost.drain_jobs()

    [post] = alice.get(f"/api/v1/accounts/{alice.id}/statuses").json()
    assert [m["acct"] for m in post["mentions"]] == [f"zed@{recorder.domain}"]
    assert recorder.paths() == ["/users/zed/inbox"]


@pytest.mark.settings(federation_allow_insecure=True, outbound_timeout_s=0.5)
def test_given_a_server_that_never_answers_when_mentioned_then_posting_is_not_held(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    with socket.socket() as silent:  # takes connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        domain = f"127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        post = alice.post_status(f"hello @zed@{domain}")
        took = time.monotonic() - started

    assert took < 3
    assert post["mentions"] == []
    assert f"@zed@{domain}" in post["content"]


def test_given_text_with_mentions_then_those_of_other_servers_are_found() -> None:
    base = "http://127.0.0.1:8001"
    text = "@a @b@127.0.0.1:8001 @c@127.0.0.1 @D@Social.Example @e@10.0.0.2:8443 @D@social.example"
    assert remote_mentions(text, base) == [("d", "social.example"), ("e", "10.0.0.2:8443")]
    assert remote_mentions("mail me at x@@y.example", base) == []


def test_given_a_stored_remote_account_then_its_mention_is_linked_as_mastodon_links_it() -> None:
    remote = {("dora", "d.example"): RemoteMention(7, "Dora", "https://d.example/@Dora")}
    rendered = render("hi @dora@D.example and @eve@d.example", {}, "https://here.example", remote)
    assert rendered.mentioned_ids == [7]
    assert rendered.html == (
        '<p>hi <span class="h-card"><a href="https://d.example/@Dora" '
        'class="u-url mention">@<span>Dora</span></a></span> and @eve@d.example</p>'
    )


def test_given_a_mentioned_accounts_server_suspended_then_the_post_goes_nowhere_near_it(
    roost: Roost, recorder: Recorder, world: dict[str, Any]
) -> None:
    async def block() -> None:
        async with roost.db.write() as tx:
            await do_block_domain(tx, "d.example", BlockChange(severity="suspend"))

    roost.run(block)
    post = world["alice"].post_status("psst @dora@d.example", visibility="direct")
    roost.drain_jobs()

    assert post["mentions"] == []
    assert _inboxes(roost, post["id"]) == []
    assert recorder.sent == []
