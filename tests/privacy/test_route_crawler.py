"""The route crawler: scenarios 8 and 12 (a URL that shows what it must not).

Canaries are planted: a locked account's followers-only post (with an image),
a followers-only post with a poll (its poll id too), a scheduled post, public
quotes of the suspended account's post and of the post hidden from the blocked
account, a direct message with an image and its direct reply, a followers-only
boost, a suspended account's public post and collection, a pending item of a
collection (shown to its owner and the featured account only), a public post
held as part of a spam wave (shown to its author only), a private list title
and a private note, an account that moved to the suspended one (its ``moved``
must not show it) and the owner's alias, and, for the blocked account only, the blocker's public
post and collection. Then every HTTP route the app has, read from its own
router (a new route is crawled without editing this file), is called as
nobody, as a stranger and as a blocked account, with every canary id put into
every path parameter, and with query or body parameters that name canaries. No
answer may contain a canary's text or id, and the hidden images answer 404 at
their exact paths (and at the owner's signed URLs when a token says who is
asking). Afterwards the owner's side is unchanged: nothing the crawl did as
someone else removed, read or answered anything of theirs.

The web pages (roost/web) are crawled the same way: their viewers are signed
in by a browser session cookie rather than a token, their forms are posted
with a valid CSRF token for that session (so the handlers behind them run),
and a ``{username}`` in a path is filled with the author of the canary id
put beside it (``/@owner/<followers-only post>``), or with the locked or the
suspended account's name. The owner has a browser session too, which no
outsider may end.

Responses are read through a small ASGI call with a time limit, so streaming
routes (server-sent events) are crawled too: whatever they send within the
limit is checked. WebSocket routes are the one kind not crawled here.
ActivityPub's routes (roost/federation) are crawled as nobody asking for
``application/activity+json`` too: a signature is their only way to say who
reads, and a signed read is read as nobody for now.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson
import pytest
from fastapi.routing import APIRoute
from sqlalchemy import insert
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

from roost.clock import utcnow
from roost.db.tables import spam_cluster_posts, spam_clusters, spam_holds
from roost.domain.graph.counts import do_suspend
from roost.domain.spam.clustering import cluster_of
from roost.ids import new_id
from tests.conftest import Roost, User
from tests.media import samples

_PARAM = re.compile(r"{([^}:]+)(?::[^}]+)?}")
STREAM_WINDOW_S = 0.3
NEVER_USED = "4242424242"  # an id no object has: what "does not exist" looks like


@dataclass
class Canaries:
    texts: list[str] = field(default_factory=list)  # hidden from every crawler
    ids: list[str] = field(default_factory=list)
    blocked_texts: list[str] = field(default_factory=list)  # hidden from the blocked only
    blocked_ids: list[str] = field(default_factory=list)
    extra_ids: list[str] = field(default_factory=list)  # not secret, but worth trying
    exact_urls: list[str] = field(default_factory=list)  # a hidden file's path
    signed_urls: list[str] = field(default_factory=list)  # the owner's capability URLs
    authors: dict[str, str] = field(default_factory=dict)  # canary id -> its author's name
    usernames: list[str] = field(default_factory=list)  # names worth putting in a path

    def found_in(self, body: str, blocked: bool, sent: str) -> list[str]:
        needles = self.texts + self.ids
        if blocked:
            needles += self.blocked_texts + self.blocked_ids
        return [needle for needle in needles if needle in body and needle not in sent]


def _upload(user: User) -> dict[str, Any]:
    response = user.post("/api/v2/media", files={"file": ("p.png", samples.png(), "image/png")})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def _hold(roost: Roost, status_id: int, account_id: int) -> None:
    """Hold a post as the clustering job does when a wave grows past
    ROOST_SPAM_HOLD_CLUSTER_SIZE (roost/domain/spam/clustering.py)."""

    async def hold() -> None:
        now = utcnow()
        async with roost.db.write() as tx:
            cluster_id = await cluster_of(tx.conn, status_id)
            if cluster_id is None:  # the job may have clustered it already
                cluster_id = new_id()
                await tx.execute(
                    insert(spam_clusters).values(
                        id=cluster_id, state="open", created_at=now, updated_at=now
                    )
                )
                await tx.execute(
                    insert(spam_cluster_posts).values(
                        status_id=status_id,
                        cluster_id=cluster_id,
                        account_id=account_id,
                        added_at=now,
                    )
                )
            await tx.execute(
                insert(spam_holds).values(
                    status_id=status_id, account_id=account_id, cluster_id=cluster_id, held_at=now
                )
            )

    roost.run(hold)


def _plant(roost: Roost) -> tuple[Canaries, dict[str, User]]:
    tag = secrets.token_hex(6)
    secret, only_blocked = f"zq{tag}", f"zb{tag}"
    c = Canaries()
    owner = roost.account("owner", locked=True)
    friend = roost.account("friend", locked=True)
    stranger, blocked, gone = (roost.account(n) for n in ("stranger", "blocked", "gone"))
    friend.follow(owner)
    assert owner.post(f"/api/v1/follow_requests/{friend.id}/authorize").status_code == 200
    owner.post(f"/api/v1/accounts/{blocked.id}/block")

    private_media, direct_media = _upload(owner), _upload(owner)
    private = owner.post_status(
        f"{secret} followers only #{secret}", visibility="private", media_ids=[private_media["id"]]
    )
    polled = owner.post_status(
        f"{secret} asks",
        visibility="private",
        poll={"options": [f"{secret} yes", "no"], "expires_in": 600},
    )
    waiting = owner.post(
        "/api/v1/statuses",
        json={"status": f"{secret} scheduled", "scheduled_at": "2099-01-01T12:00:00Z"},
    )
    assert waiting.status_code == 200, waiting.text
    dm = owner.post_status(
        f"@friend {secret} direct", visibility="direct", media_ids=[direct_media["id"]]
    )
    dm_reply = friend.post_status(
        f"@owner {secret} direct reply", visibility="direct", in_reply_to_id=dm["id"]
    )
    public = friend.post_status("a public post anyone may see")
    boost = friend.post(f"/api/v1/statuses/{public['id']}/reblog", json={"visibility": "private"})
    # Public, and answering a hidden post: its own text may show, the parent may not.
    friend.post_status("@owner count me in", in_reply_to_id=private["id"])
    friend.post(f"/api/v1/statuses/{private['id']}/favourite")
    friend.post(f"/api/v1/statuses/{private['id']}/bookmark")
    gone_post = gone.post_status(f"{secret} from an account about to be suspended")
    wave = roost.account("wave")
    # Collections: a suspended account's; the owner's, not for the blocked,
    # featuring the friend (accepted: friend follows the owner) and the wave
    # account (pending: shown to the owner and the wave account only).
    gone_collection = gone.post("/api/v1/collections", json={"name": f"{secret} gone's"})
    assert gone_collection.status_code == 200, gone_collection.text
    owned = owner.post(
        "/api/v1/collections",
        json={"name": f"{only_blocked} people", "account_ids": [friend.id, wave.id]},
    )
    assert owned.status_code == 200, owned.text
    pending = [i for i in owned.json()["collection"]["items"] if i["state"] == "pending"]
    assert len(pending) == 1, owned.text
    held_post = wave.post_status(f"{secret} public, but held as part of a spam wave")
    for_others = owner.post_status(f"{only_blocked} public, but not for the blocked #{tag}")
    # Public quotes of posts some crawlers may not see: the quote must name
    # nothing of them to those.
    quoted_hidden = friend.post(
        "/api/v1/statuses", json={"status": "a quote", "quoted_status_id": for_others["id"]}
    )
    assert quoted_hidden.status_code == 200, quoted_hidden.text
    quoted_gone = friend.post(
        "/api/v1/statuses", json={"status": "a quote too", "quoted_status_id": gone_post["id"]}
    )
    assert quoted_gone.status_code == 200, quoted_gone.text
    owner.post(f"/api/v1/accounts/{stranger.id}/note", json={"comment": f"{secret} note"})
    listed = owner.post("/api/v1/lists", json={"title": f"{secret} list"})
    # Moves: mover moved to gone (suspended below), whose ``moved`` must not
    # show her; the owner names the friend as an alias, which no outsider
    # may read or remove.
    mover = roost.account("mover")
    assert gone.post("/api/v1/roost/aliases", json={"acct": "mover"}).status_code == 200
    moved = mover.post(
        "/api/v1/roost/account/move", json={"acct": "gone", "password": "correct horse battery"}
    )
    assert moved.status_code == 200, moved.text
    alias = owner.post("/api/v1/roost/aliases", json={"acct": "friend"})
    assert alias.status_code == 200, alias.text
    c.extra_ids += [alias.json()["id"], mover.id]
    # Held back by the owner's notification policy: a request only the owner may see.
    roost.account("asker").post_status("@owner a question", visibility="direct")
    roost.drain_jobs()
    # The owner has dismissed the news of the quote: it embeds a post the
    # crawlers may reply to, so its counts would move during the crawl.
    for seen in owner.get("/api/v1/notifications", params={"types[]": "quote"}).json():
        owner.post(f"/api/v1/notifications/{seen['id']}/dismiss")

    async def suspend() -> None:
        async with roost.db.write() as tx:
            await do_suspend(tx, int(gone.id))

    roost.run(suspend)
    _hold(roost, int(held_post["id"]), int(wave.id))

    c.texts += [secret]
    c.ids += [private["id"], dm["id"], dm_reply["id"], boost.json()["id"], gone_post["id"]]
    c.ids += [polled["id"], polled["poll"]["id"], waiting.json()["id"]]
    c.authors.update({polled["id"]: "owner", polled["poll"]["id"]: "owner"})
    c.authors.update({private["id"]: "owner", dm["id"]: "owner", dm_reply["id"]: "friend"})
    c.authors.update({boost.json()["id"]: "friend", gone_post["id"]: "gone"})
    c.authors.update({for_others["id"]: "owner", public["id"]: "friend"})
    c.ids += [held_post["id"]]
    c.authors.update({held_post["id"]: "wave"})
    c.usernames += ["owner", "gone"]
    c.ids += [gone.id]  # a suspended account is as hidden as its posts
    c.ids += [private_media["id"], direct_media["id"]]
    c.blocked_texts += [only_blocked]
    c.ids += [gone_collection.json()["collection"]["id"], pending[0]["id"]]
    c.blocked_ids += [owned.json()["collection"]["id"]]
    c.blocked_ids += [for_others["id"]]
    c.extra_ids += [owner.id, friend.id, public["id"]]
    c.extra_ids += [n["id"] for n in owner.get("/api/v1/notifications").json()]
    groups = owner.get("/api/v2/notifications").json()["notification_groups"]
    c.extra_ids += [g["group_key"] for g in groups]
    requests = owner.get("/api/v1/notifications/requests").json()
    assert requests, "the crawl must try a notification request's id"
    c.extra_ids += [r["id"] for r in requests]
    for user in (owner, friend):
        c.extra_ids += [e["id"] for e in user.get("/api/v1/conversations").json()]
    if listed.status_code == 200:
        c.extra_ids.append(listed.json()["id"])
    for seen in owner.get("/api/v1/statuses", params={"id[]": [private["id"], dm["id"]]}).json():
        for media in seen["media_attachments"]:
            for url in (media["url"], media["preview_url"]):
                if url:
                    parts = urlsplit(url)
                    c.exact_urls.append(parts.path)
                    if parts.query:
                        c.signed_urls.append(f"{parts.path}?{parts.query}")
    assert len(c.exact_urls) >= 2, "the canary images must have URLs to try"
    return c, {"owner": owner, "friend": friend, "stranger": stranger, "blocked": blocked}


def _http_routes(routes: list[BaseRoute], prefix: str = "") -> tuple[list[tuple[str, str]], int]:
    """(method, path) for every HTTP route, and how many WebSocket routes there are."""
    found: list[tuple[str, str]] = []
    sockets = 0
    for route in routes:
        if isinstance(route, WebSocketRoute):
            sockets += 1
        elif hasattr(route, "original_router"):
            # FastAPI keeps an included router whole and matches into it lazily.
            context = getattr(route, "include_context", None)
            inner_prefix = prefix + (getattr(context, "prefix", "") or "")
            inner, inner_sockets = _http_routes(list(route.original_router.routes), inner_prefix)
            found += inner
            sockets += inner_sockets
        elif isinstance(route, Mount):
            inner, inner_sockets = _http_routes(list(route.routes), prefix + route.path)
            found += inner
            sockets += inner_sockets
        elif isinstance(route, (APIRoute, Route)):
            for method in sorted(route.methods or {"GET"}):
                if method not in {"HEAD", "OPTIONS"}:
                    found.append((method, prefix + route.path))
        else:
            sockets += 1 if "websocket" in type(route).__name__.lower() else 0
    return found, sockets


async def _call(
    app: Any, method: str, target: str, headers: dict[str, str], body: bytes
) -> tuple[int, bytes]:
    """One request through the ASGI app; a response still streaming after
    STREAM_WINDOW_S is cut off (the client disconnects) and what came is returned."""
    path, _, query = target.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    gone = asyncio.Event()
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    task = asyncio.ensure_future(app(scope, receive, send))
    done, _ = await asyncio.wait({task}, timeout=STREAM_WINDOW_S)
    if not done:
        gone.set()
        done, _ = await asyncio.wait({task}, timeout=1)
        if not done:
            task.cancel()
    elif isinstance(task.exception(), Warning):
        # The test run turns warnings into errors; a server only logs them. What
        # matters here is what was sent, and nothing was.
        return -1, b"".join(chunks)
    elif task.exception() is not None:
        raise task.exception()  # type: ignore[misc]
    return status, b"".join(chunks)


@dataclass(frozen=True)
class Probe:
    method: str
    target: str
    body: bytes
    named: str | None  # the canary id put into the path's id parameters, if any
    unknown: str | None = None  # the same request naming an id that never existed


def _is_id(name: str) -> bool:
    return name == "id" or name.endswith("_id")


def _is_browser(path: str) -> bool:
    from roost.web.errors import is_browser_path

    return is_browser_path(path)


def _probes(c: Canaries, method: str, path: str) -> list[Probe]:
    """Every request to try on one route: each canary id in its id parameters
    (a word, or a canary's text, in the others), with query or body parameters
    that name canaries too."""
    names = _PARAM.findall(path)
    fills: list[tuple[str, str | None]] = [(path, None)]
    never = path
    if names:
        ids = [*c.ids, *c.blocked_ids, *c.extra_ids]
        words = [c.texts[0], c.blocked_texts[0], "original"]
        ids_only = all(_is_id(n) for n in names)
        values = ids if ids_only else [*ids, *words]

        if "username" in names:
            values = [*values, *c.usernames]

        def fill(value: str) -> str:
            word = value if not value.isdigit() else "original"
            # /@{username}/{status_id}: the canary's own author, so the page
            # asked for is the hidden post's real address.
            author = c.authors.get(value, "owner") if value.isdigit() else value

            def part(m: re.Match[str]) -> str:
                name = m.group(1)
                if _is_id(name):
                    return value
                return author if name == "username" else word

            return _PARAM.sub(part, path)

        fills = [(fill(v), v if v.isdigit() and any(map(_is_id, names)) else None) for v in values]
        never = fill(NEVER_USED)
    every_id = c.ids + c.blocked_ids
    if method == "GET":
        queries: list[dict[str, Any]] = [
            {},
            {"id[]": every_id},
            {"q": c.texts[0], "resolve": "true"},
            {"account_id": c.extra_ids[0], "limit": "80"},
        ]
        queries = queries[:2] if names else queries
        return [
            Probe(method, t + _query(q), b"", named, never + _query(q))
            for t, named in fills
            for q in queries
        ]
    bodies: list[dict[str, Any]] = [
        {},
        {"status": "probe", "in_reply_to_id": c.ids[0], "id": every_id},
        {"status": "probe", "in_reply_to_id": c.blocked_ids[0], "account_ids": c.extra_ids},
    ]
    bodies = bodies[:2] if names else bodies
    return [Probe(method, t, orjson.dumps(b), named, never) for t, named in fills for b in bodies]


def _query(params: dict[str, Any]) -> str:
    return f"?{urlencode(params, doseq=True)}" if params else ""


def _browser_session(roost: Roost, user: User) -> tuple[str, int]:
    """A signed-in browser of ``user``: (session cookie token, session id)."""
    from roost.domain.sessions.actions import do_start_session

    async def start() -> tuple[str, int]:
        async with roost.db.write() as tx:
            started = await do_start_session(tx, int(user.id), ip="127.0.0.1", user_agent="crawl")
        return started.token, started.id

    return roost.run(start)


def _form_body(body: bytes, csrf_token: str) -> bytes:
    """The probe's JSON body as a web form, with a valid CSRF token."""
    fields: dict[str, Any] = orjson.loads(body) if body else {}
    return urlencode({**fields, "csrf_token": csrf_token}, doseq=True).encode()


# Every route, with every canary, as three outsiders: the crawl grows with the
# API, past the suite's five minutes on PostgreSQL under load.
@pytest.mark.timeout(900)
def test_given_canaries_of_every_hidden_kind_then_no_route_shows_them_to_outsiders(
    roost: Roost,
) -> None:
    from roost.web.csrf import NONCE_COOKIE, _token
    from roost.web.viewer import SESSION_COOKIE

    canaries, users = _plant(roost)
    owner, friend = users["owner"], users["friend"]
    owner_session, owner_session_id = _browser_session(roost, owner)
    canaries.extra_ids.append(str(owner_session_id))
    nonce = "crawler-nonce"
    browsers: dict[str, tuple[str, int | None]] = {"anonymous": ("", None)}
    for name in ("stranger", "blocked"):
        browsers[name] = _browser_session(roost, users[name])
    before = {
        "notifications": owner.get("/api/v1/notifications").json(),
        "conversations": owner.get("/api/v1/conversations").json(),
        "bookmarks": friend.get("/api/v1/bookmarks").json(),
        "aliases": owner.get("/api/v1/roost/aliases").json(),
    }
    app = roost.client.app
    routes, sockets = _http_routes(list(app.routes))  # type: ignore[attr-defined]
    assert len(routes) > 100, "the crawler should see the whole API"
    viewers: list[tuple[str, dict[str, str]]] = [("anonymous", {})]
    viewers += [(name, users[name].headers) for name in ("stranger", "blocked")]

    async def crawl() -> list[str]:
        problems: list[str] = []
        for name, auth in viewers:
            probes = [probe for m, p in routes for probe in _probes(canaries, m, p)]
            hidden_files = list(canaries.exact_urls)
            if auth:
                # A capability URL someone passed on is judged by the bearer
                # token when one is sent (roost/media/urls.py): still hidden.
                hidden_files += canaries.signed_urls
            probes += [Probe("GET", url, b"", None) for url in hidden_files]
            blocked = name == "blocked"
            secret_ids = set(canaries.ids + (canaries.blocked_ids if blocked else []))
            baseline: dict[tuple[str, str, bytes], int] = {}
            # Signing out ends the crawl's own session: it goes last.
            probes.sort(key=lambda p: p.target.startswith("/auth/sign_out"))
            session, session_id = browsers[name]
            cookie = f"{NONCE_COOKIE}={nonce}" + (
                f"; {SESSION_COOKIE}={session}" if session else ""
            )
            form_token = _token(roost.settings.secret_key, nonce, session_id)
            for probe in probes:
                headers = {**auth, "content-type": "application/json"}
                body = probe.body
                if _is_browser(probe.target):
                    headers = {"cookie": cookie}
                    if probe.method != "GET":
                        headers["content-type"] = "application/x-www-form-urlencoded"
                        body = _form_body(probe.body, form_token)
                    probe = Probe(probe.method, probe.target, body, probe.named, probe.unknown)
                if name == "anonymous" and probe.target.startswith(("/users/", "/actor")):
                    # ActivityPub's documents (roost/federation): their reader is
                    # known by an HTTP signature only, so they are crawled as nobody.
                    headers["accept"] = "application/activity+json"
                status, answer = await _call(app, probe.method, probe.target, headers, probe.body)
                where = f"{name} {probe.method} {probe.target}"
                if status >= 500:
                    problems.append(f"{where}: {status}")
                # What the request itself carried may come back (a tag named by
                # the caller, a search term); anything else is a leak.
                sent = probe.target + probe.body.decode()
                found = canaries.found_in(answer.decode(errors="replace"), blocked, sent)
                if found:
                    problems.append(f"{where}: {status} shows {found}")
                if probe.named in secret_ids and probe.unknown is not None:
                    # A hidden object must answer as one that never existed.
                    key = (probe.method, probe.unknown, probe.body)
                    if key not in baseline:
                        baseline[key] = (
                            await _call(app, probe.method, probe.unknown, headers, probe.body)
                        )[0]
                    if status != baseline[key]:
                        problems.append(
                            f"{where}: {status}, where an id that never existed gets "
                            f"{baseline[key]}: the hidden object's existence shows"
                        )
                if probe.target in hidden_files and status != 404:
                    problems.append(f"{where}: hidden media answered {status}")
        return problems

    problems = roost.run(crawl)

    assert problems == [], "\n".join(problems[:40])
    assert sockets <= 1, "only the streaming WebSocket is left uncrawled"
    # The owner's side is as it was: no outsider dismissed, read or removed anything.
    assert owner.get("/api/v1/notifications").json() == before["notifications"]
    assert owner.get("/api/v1/conversations").json() == before["conversations"]
    assert friend.get("/api/v1/bookmarks").json() == before["bookmarks"]
    assert owner.get("/api/v1/roost/aliases").json() == before["aliases"]
    for url in canaries.exact_urls + canaries.signed_urls:
        assert roost.client.get(url, headers=owner.headers).status_code == 200
    # The owner's browser is still signed in: no outsider ended its session.
    own_page = roost.client.get(
        "/settings/security", headers={"cookie": f"{SESSION_COOKIE}={owner_session}"}
    )
    assert own_page.status_code == 200 and "@owner" in own_page.text
