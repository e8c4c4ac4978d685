"""ActivityPub's routes: discovery, actors, posts, collections and inboxes.

    /.well-known/webfinger  /.well-known/host-meta
    /actor                                  the instance actor
    /users/NAME                             the actor (the profile page otherwise)
    /users/NAME/statuses/ID[/activity]      a post (its page otherwise)
    /users/NAME/followers  /following  /outbox  /collections/featured
                                            actor_collections.py
    POST /users/NAME/inbox  POST /inbox     verified, then queued: inbox.py

Actors, posts, activities and collections answer JSON-LD to ``Accept:
application/activity+json`` or ``application/ld+json`` (with or without the
ActivityStreams profile); any other request is sent to the web page (the
post's, or the profile's for an actor's collections). Everything
is read through the privacy policy as whoever signed the request
(``reader`` in common.py): the signer's account when its actor is stored
here and not suspended, so a follower's server reads followers-only posts;
anonymous otherwise, when a post that is not public or unlisted is not
found. A browser's session or an API token is not looked at. With
``ROOST_AUTHORIZED_FETCH`` an unsigned or badly signed read is refused 401,
except the instance actor's document, which is how others get
the key to check the instance's own signed fetches. A read signed by a
server not federated with (suspended here; not allowed in the allow-list
mode) is refused 403 whatever the mode (roost/domain/federation/signed_reads.py).

With ``ROOST_FEDERATION=false`` every route here answers 404 to ActivityPub
(the web page redirects still work).
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from roost.config import Settings
from roost.domain.accounts import retired
from roost.domain.accounts.actions import USERNAME
from roost.domain.federation import keys, moves, post_links, quote_requests, uris
from roost.domain.statuses import queries as status_queries
from roost.domain.types import ANONYMOUS
from roost.errors import NotFound
from roost.federation import documents
from roost.federation.common import (
    Refused,
    activity_type,
    answer,
    enabled,
    in_reply_to,
    json_answer,
    local_account,
    plain_username,
    quote_fields,
    reader,
    services,
    status_id_of,
)

log = logging.getLogger("roost.federation")
router = APIRouter(include_in_schema=False)


# --- Discovery ----------------------------------------------------------------


_URI_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S")


def _webfinger_name(resource: str, settings: Settings) -> str | None:
    """The username a WebFinger resource names on this server (the domain
    itself for the instance actor), or None."""
    resource = resource.strip()
    if resource.lower().startswith("acct:"):
        user, _, host = resource[5:].lstrip("@").rpartition("@")
        if not user or host.lower() != settings.domain.lower():
            return None
        return user
    base = settings.base_url
    parts = urlsplit(resource)
    if f"{parts.scheme}://{parts.netloc}".lower() != base.lower():
        return None
    if parts.path in ("/actor", ""):
        return settings.domain
    for prefix in ("/@", "/users/"):
        if parts.path.startswith(prefix):
            name = unquote(parts.path[len(prefix) :])
            return name if name and "/" not in name else None
    return None


@router.get("/.well-known/webfinger")
async def webfinger(request: Request, resource: str = "") -> Response:
    """Which actor an ``acct:name@domain`` (or profile address) is, as a JRD.
    A missing or malformed ``resource`` (no URI: no scheme) answers 400, as
    RFC 7033 section 4.2 says; a well-formed one naming nobody here, 404."""

    async def make() -> Response:
        settings = enabled(request)
        if not _URI_SCHEME.match(resource.strip()):
            raise Refused(400, "The resource is missing or is no URI")
        name = _webfinger_name(resource, settings)
        if name is None:
            raise NotFound()
        base = settings.base_url
        if name.lower() == settings.domain.lower():
            subject = f"acct:{settings.domain}@{settings.domain}"
            document = documents.webfinger(subject, uris.instance_actor_uri(base), None)
        else:
            async with services(request).db.read() as conn:
                account = (await local_account(conn, ANONYMOUS, name)).value
            document = documents.webfinger(
                f"acct:{account.username}@{settings.domain}",
                uris.actor_uri(base, account.username),
                f"{base}/@{account.username}",
            )
        response = json_answer(document, "application/jrd+json; charset=utf-8")
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response

    return await answer(make)


@router.get("/.well-known/host-meta")
async def host_meta(request: Request) -> Response:
    """Where WebFinger answers (XRD), for servers that ask this first."""

    async def make() -> Response:
        settings = enabled(request)
        return Response(
            documents.host_meta(settings.base_url),
            media_type="application/xrd+xml; charset=utf-8",
        )

    return await answer(make)


@router.get("/actor")
async def instance_actor(request: Request) -> Response:
    """Served unsigned whatever the mode: its key checks the instance's own
    signed fetches."""

    async def make() -> Response:
        settings = enabled(request)
        pair = await keys.key_pair(services(request).db, keys.INSTANCE_ACTOR_ID)
        document = documents.instance_actor(settings.base_url, settings.domain, pair.public_pem)
        return json_answer(document, activity_type(request) or documents.ACTIVITY_JSON)

    return await answer(make)


# --- Actors and posts ------------------------------------------------------------


@router.get("/users/{username}")
async def actor(request: Request, username: str) -> Response:
    wanted = activity_type(request)
    if wanted is None:
        return RedirectResponse(f"/@{plain_username(username)}", status_code=302)

    async def make() -> Response:
        settings = enabled(request)
        viewer = await reader(request, settings)
        svc = services(request)
        async with svc.db.read() as conn:
            try:
                account = await local_account(conn, viewer, username)
            except NotFound:
                if USERNAME.match(username) and await retired.is_retired(conn, username):
                    # An erased account: gone for good, as Mastodon answers.
                    raise Refused(410, "Gone") from None
                raise
            aliases = await moves.alias_uris(conn, account.value.id)
            moved_to = await moves.moved_to_uri(conn, settings.base_url, account.value.id)
        if account.value.username != username:
            raise NotFound()  # one URI per actor: /users/Alice is not /users/alice
        pair = await keys.key_pair(svc.db, account.value.id)
        document = documents.actor(
            account,
            settings.base_url,
            pair.public_pem,
            also_known_as=aliases,
            moved_to=moved_to,
        )
        return json_answer(document, wanted)

    return await answer(make)


async def _post(
    request: Request, username: str, status_id: str, wanted: str
) -> tuple[dict[str, Any], Settings]:
    settings = enabled(request)
    viewer = await reader(request, settings)
    async with services(request).db.read() as conn:
        found = await status_queries.status(conn, viewer, status_id_of(status_id))
        if found.value.reblog is not None or found.value.account.username != username:
            raise NotFound()
        parent = await in_reply_to(conn, settings.base_url, found.value)
        quote = await quote_fields(conn, settings.base_url, found.value)
    return documents.note(found, settings.base_url, settings.domain, parent, quote), settings


@router.get("/users/{username}/statuses/{status_id}")
async def status(request: Request, username: str, status_id: str) -> Response:
    wanted = activity_type(request)
    if wanted is None:
        return RedirectResponse(
            f"/@{plain_username(username)}/{status_id_of(status_id)}", status_code=302
        )

    async def make() -> Response:
        note, _ = await _post(request, username, status_id, wanted)
        return json_answer(documents.with_context(note), wanted)

    return await answer(make)


@router.get("/users/{username}/statuses/{status_id}/replies")
async def status_replies(request: Request, username: str, status_id: str) -> Response:
    """The post's public and unlisted replies the reader may see, as
    addresses, oldest first (roost/domain/federation/post_links.py): what
    another server walks to fill in a thread."""
    wanted = activity_type(request)
    if wanted is None:
        return RedirectResponse(
            f"/@{plain_username(username)}/{status_id_of(status_id)}", status_code=302
        )

    async def make() -> Response:
        settings = enabled(request)
        viewer = await reader(request, settings)
        wanted_id = status_id_of(status_id)
        async with services(request).db.read() as conn:
            # The post itself through the policy: no replies of a post the
            # reader may not see, nor of a boost or another author's post.
            found = await status_queries.status(conn, viewer, wanted_id)
        if found.value.reblog is not None or found.value.account.username != username:
            raise NotFound()
        uri = f"{uris.status_uri(settings.base_url, username, wanted_id)}/replies"
        if request.query_params.get("page") != "true":
            document = {
                "@context": documents.NOTE_CONTEXT,
                "id": uri,
                "type": "Collection",
                "first": f"{uri}?page=true",
            }
            return json_answer(document, wanted)
        raw_after = request.query_params.get("after", "")
        after = int(raw_after) if raw_after.isdigit() and len(raw_after) <= 19 else None
        async with services(request).db.read() as conn:
            replies = await post_links.reply_uris(conn, viewer, settings.base_url, wanted_id, after)
        this = f"{uri}?page=true" + (f"&after={after}" if after else "")
        following = (
            f"{uri}?page=true&after={replies[-1][0]}"
            if len(replies) >= post_links.REPLIES_PAGE
            else None
        )
        page = {
            "@context": documents.NOTE_CONTEXT,
            "id": this,
            "type": "CollectionPage",
            "partOf": uri,
            "items": [address for _, address in replies],
        }
        if following is not None:
            page["next"] = following
        return json_answer(page, wanted)

    return await answer(make)


@router.get("/users/{username}/quote_authorizations/{quote_id}")
async def quote_authorization(request: Request, username: str, quote_id: str) -> Response:
    """The stamp of a quote of a local post (roost/domain/federation/quote_requests.py)."""
    wanted = activity_type(request) or documents.ACTIVITY_JSON

    async def make() -> Response:
        settings = enabled(request)
        if not quote_id.isdigit() or len(quote_id) > 19 or len(username) > 30:
            raise NotFound()
        async with services(request).db.read() as conn:
            found = await quote_requests.authorization(
                conn, settings.base_url, username, int(quote_id)
            )
        if found is None:
            raise NotFound()
        return json_answer(found, wanted)

    return await answer(make)


@router.get("/users/{username}/statuses/{status_id}/activity")
async def status_activity(request: Request, username: str, status_id: str) -> Response:
    wanted = activity_type(request)
    if wanted is None:
        return RedirectResponse(
            f"/@{plain_username(username)}/{status_id_of(status_id)}", status_code=302
        )

    async def make() -> Response:
        note, _ = await _post(request, username, status_id, wanted)
        return json_answer(documents.with_context(documents.create(note)), wanted)

    return await answer(make)
