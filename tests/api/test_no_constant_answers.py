"""Every method of the API answers for real: none answers a constant.

Every GET route the app has (read from its own router, so a new route is
checked without editing this file), outside the admin API, the web pages and
deprecated methods, is called as one viewer twice: on an empty instance (the
viewer alone), and after the viewer and others have used every feature (posts,
media, follows, lists, collections, filters, tags, featured tags, endorsements, blocks,
notifications and a stranger's request, the notification policy, Web Push
delivered to a local push service, trends approved by staff (with a link card
from a local website), announcements, emoji, rules, texts, an export, an
import...). A route fails when its second answer is not a success, is empty
(``[]`` or ``{}``), or is the same as its first: a placeholder that answers
``[]`` whatever happens fails all three ways.

``CONSTANT`` lists, each with its reason, the routes whose answer is rightly
the same whatever the data (liveness checks, static images, configuration, a
list that stays empty until federation, the answer of a step Roost never
needs). ``PENDING`` names routes whose real answer other work is building at
the same time; each entry is to be removed when that work lands, and this test
then holds them too. Streams (Server-Sent Events) are not called here: they
never end (tests/streaming covers them).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Mount, Route

from roost.domain.announcements.actions import NewAnnouncement, do_add_announcement
from roost.domain.annual_reports import actions as annual_reports
from roost.domain.blocks.domains import BlockChange, do_block_domain
from roost.domain.emojis.actions import do_add_emoji
from roost.domain.instance.rules import do_add_rule
from roost.domain.oauth.actions import do_issue_token, do_register_app
from roost.domain.oauth.scopes import parse as parse_scopes
from roost.domain.trends.actions import do_review
from roost.domain.trends.queries import Kind, awaiting_review, forget_ranked
from roost.importers.twitter import job
from roost.web.errors import is_browser_path
from tests.cards.site import opengraph, serving
from tests.conftest import Roost, User
from tests.importers.conftest import rich_archive
from tests.media import samples
from tests.push.receiver import Subscriber, push_service

NEVER_USED = "4242424242"
_PARAM = re.compile(r"{([^}:]+)(?::[^}]+)?}")

# The fill reaches a website and a push service on this machine.
pytestmark = pytest.mark.settings(outbound_allow_private=True)

CONSTANT: dict[str, str] = {
    "/livez": "liveness: the process answers",
    "/readyz": "readiness of the dependencies, the same while they are up",
    "/health": "Mastodon's liveness check",
    "/api/v1/streaming/health": "the streaming liveness check",
    "/metrics": "refused to clients off this machine without the token (tests/observability)",
    "/api/openapi.json": "the description of the routes, not of the data",
    "/.well-known/oauth-authorization-server": "the OAuth configuration, from settings",
    "/.well-known/nodeinfo": "where the NodeInfo documents are",
    "/.well-known/host-meta": "where WebFinger answers, from settings",
    "/avatars/original/missing.png": "the default avatar image",
    "/headers/original/missing.png": "the default header image",
    "/instance/thumbnail{version}.png": "the instance's default thumbnail",
    "/instance/icons/{size}.png": "the instance's default icon",
    "/static/{name}": "the web pages' static files",
    "/api/v1/apps/verify_credentials": "the token's own app, the same whatever the data",
    "/api/v1/instance/languages": "every ISO 639-1 language, as Mastodon lists",
    "/api/v1/instance/translation_languages": "{}: Roost has no translation service",
    "/api/v1/instance/peers": "[]: no peers before federation",
    "/api/v1/notifications/requests/merged": (
        "{merged: true}: accepting a request shows its notifications in the same transaction"
    ),
}
PENDING: dict[str, str] = {}


def get_routes(routes: list[BaseRoute], prefix: str = "") -> list[tuple[str, bool]]:
    """(path, deprecated) of every GET route, included routers' too."""
    found: list[tuple[str, bool]] = []
    for route in routes:
        if hasattr(route, "original_router"):
            context = getattr(route, "include_context", None)
            inner = prefix + (getattr(context, "prefix", "") or "")
            found += get_routes(list(route.original_router.routes), inner)
        elif isinstance(route, Mount):
            found += get_routes(list(route.routes), prefix + route.path)
        elif isinstance(route, (APIRoute, Route)) and "GET" in (route.methods or set()):
            found.append((prefix + route.path, bool(getattr(route, "deprecated", False))))
    return found


def _admin(path: str) -> bool:
    return path.startswith(("/api/v1/admin/", "/api/v2/admin/"))


def checked_paths(app: Any) -> list[str]:
    paths = []
    for path, deprecated in get_routes(list(app.routes)):
        streaming = path.startswith("/api/v1/streaming/") and path != "/api/v1/streaming/health"
        if deprecated or streaming or is_browser_path(path) or _admin(path):
            continue
        paths.append(path)
    return sorted(set(paths))


@dataclass
class World:
    """What a path's parameters and query are filled with."""

    params: dict[str, str]
    queries: dict[str, dict[str, Any]]
    overrides: dict[str, dict[str, str]]

    def url(self, path: str) -> tuple[str, dict[str, Any]]:
        values = {**self.params, **self.overrides.get(path, {})}
        filled = _PARAM.sub(lambda m: values.get(m.group(1), NEVER_USED), path)
        return filled, self.queries.get(path, {})


def _in_process(roost: Roost, body: Any) -> Any:
    async def run() -> Any:
        async with roost.db.write() as tx:
            return await body(tx)

    return roost.run(run)


def _viewer(roost: Roost) -> User:
    """The viewer, with a token of a registered app."""
    me = roost.account("me")

    async def token(tx: Any) -> str:
        app = await do_register_app(tx, "Roost tests", "urn:ietf:wg:oauth:2.0:oob", None, None)
        scopes = parse_scopes("read write follow push profile")
        return (await do_issue_token(tx, int(me.id), app.id, scopes)).token

    return User(roost, "me", me.id, _in_process(roost, token))


def _path_of(url: str) -> str:
    return urlsplit(url).path


def _fill(roost: Roost, me: User, tmp: Path) -> World:
    """Use every feature, as the viewer and others; return the ids to ask about."""
    friend, fan, fof, pest, noisy, requester = (
        roost.account(n) for n in ("friend", "fan", "fof", "pest", "noisy", "requester")
    )
    me.follow(friend)
    friend.follow(me)
    fan.follow(me)
    friend.follow(fof)
    me.post(f"/api/v1/accounts/{pest.id}/block")
    me.post(f"/api/v1/accounts/{noisy.id}/mute")
    me.patch(
        "/api/v1/accounts/update_credentials",
        data={"locked": "true", "source[privacy]": "unlisted", "note": "hello"},
        files={"avatar": ("a.png", samples.png(), "image/png")},
    )
    requester.follow(me)

    media = me.post("/api/v2/media", files={"file": ("p.png", samples.png(), "image/png")}).json()
    post = me.post_status("hello #roost world", visibility="public", media_ids=[media["id"]])
    me.put(f"/api/v1/statuses/{post['id']}", json={"status": "hello #roost world, edited"})
    me.post_status("#gardening is good")
    me.post(f"/api/v1/statuses/{post['id']}/pin")
    reply = friend.post_status("@me nice #roost", in_reply_to_id=post["id"])
    friend.post(f"/api/v1/statuses/{post['id']}/favourite")
    friend.post(f"/api/v1/statuses/{post['id']}/reblog")
    me.post(f"/api/v1/statuses/{reply['id']}/bookmark")
    me.post(f"/api/v1/statuses/{reply['id']}/favourite")
    me.post_status("@friend a secret", visibility="direct")
    me.post("/api/v1/tags/roost/follow")
    me.post("/api/v1/featured_tags", json={"name": "roost"})
    me.post(f"/api/v1/accounts/{friend.id}/pin")
    me.post("/api/v1/domain_blocks", json={"domain": "spam.example"})
    me.post("/api/v1/roost/aliases", json={"acct": "friend"})  # friend was me before
    listed = me.post("/api/v1/lists", json={"title": "friends"}).json()
    me.post(f"/api/v1/lists/{listed['id']}/accounts", json={"account_ids": [friend.id]})
    collection = me.post(
        "/api/v1/collections", json={"name": "good people", "account_ids": [friend.id]}
    ).json()["collection"]
    made = me.post(
        "/api/v2/filters",
        json={
            "title": "spoilers",
            "context": ["home"],
            "keywords_attributes": [{"keyword": "spoiler"}],
        },
    ).json()
    status_filter = me.post(
        f"/api/v2/filters/{made['id']}/statuses", json={"status_id": reply["id"]}
    ).json()
    me.post("/api/v1/markers", data={"home[last_read_id]": reply["id"]})
    unattached = me.post("/api/v2/media", files={"file": ("u.png", samples.png(), "image/png")})
    poll = me.post_status("which?", poll={"options": ["this", "that"], "expires_in": 3600})["poll"]
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    scheduled = me.post_status("later", scheduled_at=later)
    friend.post_status("quoting this", quoted_status_id=post["id"])

    async def staff(tx: Any) -> None:
        await do_add_announcement(
            tx, NewAnnouncement("Welcome :blob:"), base_url=roost.settings.base_url
        )
        await do_add_emoji(tx, roost.settings.data_dir, "blob", samples.png(16, 16))
        await do_add_rule(tx, "Be kind")
        await do_block_domain(tx, "spam.example", BlockChange(severity="suspend"))

    _in_process(roost, staff)
    texts = roost.settings.data_dir / "instance"
    texts.mkdir(parents=True, exist_ok=True)
    for name, text in (
        ("about", "<p>A garden.</p>"),
        ("terms", "Be kind."),
        ("privacy", "Little."),
    ):
        (texts / f"{name}.txt" if name != "about" else texts / "about.html").write_text(text)

    archive = rich_archive().builder.write_zip(tmp / "archive.zip").read_bytes()
    imported = me.post(
        "/api/v1/roost/imports",
        files={"archive": ("twitter.zip", archive, "application/zip")},
        data={"include_dms": "true", "force": "true"},  # the archive is @alice's
    ).json()
    roost.drain_jobs()
    export = me.post("/api/v1/roost/export").json()
    roost.drain_jobs()
    request_id, link = _outside(roost, me, post["id"])
    card_image = _path_of(me.get("/api/v1/trends/links").json()[0]["image"]).split("/")

    notification = me.get("/api/v1/notifications").json()[0]
    account = me.get("/api/v1/accounts/verify_credentials").json()
    emoji = me.get("/api/v1/custom_emojis").json()[0]
    shown = me.get(f"/api/v1/statuses/{post['id']}").json()
    media_path = _path_of(shown["media_attachments"][0]["url"]).split("/")
    avatar_path = _path_of(account["avatar"]).split("/")
    announcement = me.get("/api/v1/announcements").json()[0]
    terms_day = datetime.fromtimestamp((texts / "terms.txt").stat().st_mtime, UTC).date()
    keyword_id = made["keywords"][0]["id"]
    group_key = me.get("/api/v2/notifications").json()["notification_groups"][0]["group_key"]
    year, refresh = _annual_report(roost, me)
    return World(
        params={
            "account_id": me.id,
            "status_id": post["id"],
            "list_id": listed["id"],
            "filter_id": made["id"],
            "keyword_id": keyword_id,
            "status_filter_id": status_filter["id"],
            "notification_id": notification["id"],
            "media_id": media["id"],
            "announcement_id": announcement["id"],
            "name": "roost",
            "hashtag": "roost",
            "import_id": imported["id"],
            "export_id": export["id"],
            "poll_id": poll["id"],
            "scheduled_id": scheduled["id"],
            "day": terms_day.isoformat(),
            "file_name": _path_of(emoji["url"]).rsplit("/", 1)[1],
            "attachment_id": media_path[2],
            "variant": media_path[3],
            "role": avatar_path[4],
            "request_id": request_id,
            "group_key": group_key,
            "card_id": card_image[3],
            "year": str(year),
            "refresh_id": refresh,
            "collection_id": collection["id"],
        },
        queries=_queries(friend.id, fan.id, fof.id, post["id"], shown["url"], link),
        overrides={
            "/api/v1/accounts/{account_id}/lists": {"account_id": friend.id},
            "/api/v1/accounts/{account_id}/in_collections": {"account_id": friend.id},
            "/api/v1/{account_id}/in_collections": {"account_id": friend.id},
            "/api/v1/media/{media_id}": {"media_id": unattached.json()["id"]},
            "/media/{attachment_id}/{variant}/{name}": {"name": media_path[4]},
            "/media/profile/{account_id}/{role}/{name}": {
                "account_id": avatar_path[3],
                "name": avatar_path[5],
            },
            "/media/cards/{card_id}/{name}": {"name": card_image[4]},
        },
    )


def _annual_report(roost: Roost, me: User) -> tuple[int, str]:
    """The viewer's report of this year, generated on a day it is offered;
    returns the year and the async refresh its generation named."""
    year = datetime.now(UTC).year
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(annual_reports, "utcnow", lambda: datetime(year, 12, 20, tzinfo=UTC))
        started = me.post(f"/api/v1/annual_reports/{year}/generate")
    assert started.status_code == 202, started.text
    roost.drain_jobs()
    return year, started.headers["Mastodon-Async-Refresh"].split('"')[1]


def _outside(roost: Roost, me: User, post_id: str) -> tuple[str, str]:
    """What reaches out: a push subscription delivered to, a stranger's private
    mention filed as a request, a changed policy, and trends (a hashtag, a
    post, a link with its card and image from a website) approved by staff.
    Returns the request's id and the trending link."""
    with serving() as site, push_service() as service:
        subscriber = Subscriber()
        subscribed = me.post(
            "/api/v1/push/subscription",
            json={
                "subscription": {
                    "endpoint": service.endpoint("me"),
                    "keys": {"p256dh": subscriber.p256dh, "auth": subscriber.auth_b64},
                },
                "data": {"alerts": {"mention": True, "favourite": True}},
            },
        )
        assert subscribed.status_code == 200, subscribed.text
        stranger, walker = roost.account("stranger"), roost.account("walker")
        stranger.post_status("@me who are you?", visibility="direct")
        changed = me.patch("/api/v2/notifications/policy", json={"for_limited_accounts": "accept"})
        assert changed.status_code == 200, changed.text
        site.file("/heron.png", samples.png(), "image/png")
        site.page(
            "/herons", opengraph("Herons at dawn", description="A long look", image="/heron.png")
        )
        link = f"{site.url}/herons"
        for user in (stranger, walker):
            user.post_status(f"#herons at the lake {site.url}/herons")
            user.post(f"/api/v1/statuses/{post_id}/favourite")
        roost.drain_jobs()
        assert site.hits["/herons"] == 1, "the link's card was not fetched"
        assert service.received, "no notification was pushed"

    async def approve(tx: Any) -> None:
        forget_ranked()
        for kind in Kind:
            for trend in await awaiting_review(tx.conn, kind):
                await do_review(tx, kind, trend.subject_id, approved=True)

    _in_process(roost, approve)
    (request,) = me.get("/api/v1/notifications/requests").json()
    return str(request["id"]), link


def _queries(
    friend: str, fan: str, fof: str, post: str, url: str, link: str
) -> dict[str, dict[str, Any]]:
    """The query of each route that needs one: the same questions before and after."""
    return {
        "/api/v1/accounts": {"id[]": [friend, fan]},
        "/api/v1/accounts/familiar_followers": {"id[]": [fof]},
        "/api/v1/accounts/lookup": {"acct": "friend"},
        "/api/v1/accounts/relationships": {"id[]": [friend]},
        "/api/v1/accounts/search": {"q": "friend"},
        "/api/v2/search": {"q": "roost"},
        "/api/v1/statuses": {"id[]": [post]},
        "/api/oembed": {"url": url},
        "/api/v1/markers": {"timeline[]": ["home", "notifications"]},
        "/api/v1/timelines/link": {"url": link},
        # The profile address form of a WebFinger resource (on this server).
        "/.well-known/webfinger": {"resource": url.split("/@")[0] + "/@friend"},
    }


def _empty_world(base: str) -> World:
    """The questions on the empty instance, where nothing they name exists yet."""
    names = {"name": "roost", "hashtag": "roost", "day": datetime.now(UTC).date().isoformat()}
    names |= {"variant": "original", "role": "avatar", "file_name": "blob.png"}
    url = f"{base}/@me/{NEVER_USED}"
    link = f"{base}/nothing-trends"
    return World(names, _queries(NEVER_USED, NEVER_USED, NEVER_USED, NEVER_USED, url, link), {})


def _answers(me: User, world: World, paths: list[str]) -> dict[str, tuple[int, bytes]]:
    found = {}
    for path in paths:
        url, query = world.url(path)
        response = me.get(url, params=query)
        found[path] = (response.status_code, response.content)
    return found


def _empty_body(body: bytes) -> bool:
    return body.strip() in {b"[]", b"{}", b""}


@pytest.fixture(autouse=True)
def fresh_trends() -> Iterator[None]:
    """Trends ranked in another test are not kept for this one."""
    forget_ranked()
    yield
    forget_ranked()


@pytest.fixture(autouse=True)
def patient_import_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Draining the queue finishes the whole import (see tests/importers)."""
    monkeypatch.setattr(job, "WAIT_S", 60.0)


def _failures(
    before: dict[str, tuple[int, bytes]], after: dict[str, tuple[int, bytes]]
) -> list[str]:
    failures = []
    for path, (status, body) in after.items():
        if not 200 <= status < 300:
            failures.append(f"{path}: answered {status} once used: {body[:200]!r}")
        elif _empty_body(body):
            failures.append(f"{path}: still empty once used")
        elif before[path] == (status, body):
            failures.append(f"{path}: the same answer before and after use: {body[:120]!r}")
    return failures


def _check(roost: Roost, tmp_path: Path) -> list[str]:
    me = _viewer(roost)
    paths = checked_paths(roost.client.app)
    assert len(paths) > 100, "the test should see the whole API"
    stale = sorted((set(CONSTANT) | set(PENDING)) - set(paths))
    assert not stale, f"allow-listed routes that no longer exist: {stale}"
    asked = [p for p in paths if p not in CONSTANT and p not in PENDING]
    before = _answers(me, _empty_world(roost.settings.base_url), asked)
    after = _answers(me, _fill(roost, me, tmp_path), asked)
    return _failures(before, after)


def test_given_an_instance_before_and_after_use_then_no_route_answers_a_constant(
    roost: Roost, tmp_path: Path
) -> None:
    failures = _check(roost, tmp_path)
    assert not failures, "\n".join(failures)


def test_given_a_route_that_answers_a_constant_then_the_check_names_it(
    roost: Roost, tmp_path: Path
) -> None:
    async def placeholder() -> list[str]:
        return []

    app: Any = roost.client.app
    app.router.add_api_route("/api/v1/placeholder_probe", placeholder, methods=["GET"])
    assert _check(roost, tmp_path) == ["/api/v1/placeholder_probe: still empty once used"]
