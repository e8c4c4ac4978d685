"""What the ActivityPub routes share: answers in Mastodon's error shape, the
content negotiation, who reads (a signature, or nobody) and the lookups."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.config import Settings
from roost.domain.accounts import queries as account_queries
from roost.domain.accounts.actions import USERNAME
from roost.domain.federation import post_links, quoted, remote, uris
from roost.domain.federation.signed_reads import signer_not_federated
from roost.domain.federation.verification import NotFederated, signature_header, verify_request
from roost.domain.privacy import Visible
from roost.domain.types import ANONYMOUS, Account, StatusView, Viewer
from roost.errors import NotFound
from roost.federation import documents
from roost.net.signatures import SignatureRefused
from roost.services import Services

log = logging.getLogger("roost.federation")

NOT_FEDERATED = "This server does not federate with yours"


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def json_answer(document: Any, media_type: str = "application/json", status: int = 200) -> Response:
    response = Response(orjson.dumps(document), status_code=status, media_type=media_type)
    response.headers["Vary"] = "Accept, Signature"
    return response


def error_answer(status: int, message: str) -> Response:
    return Response(
        orjson.dumps({"error": message}),
        status_code=status,
        media_type="application/json; charset=utf-8",
    )


async def answer(make: Callable[[], Awaitable[Response]]) -> Response:
    """The answer of ``make``, its refusals as Mastodon's JSON errors (these
    paths are otherwise answered with web pages)."""
    try:
        return await make()
    except NotFound as error:
        return error_answer(404, error.message)
    except Refused as refused:
        return error_answer(refused.status, refused.message)


def services(request: Request) -> Services:
    result: Services = request.app.state.services
    return result


def enabled(request: Request) -> Settings:
    settings = services(request).settings
    if not settings.federation:
        raise NotFound()
    return settings


def activity_type(request: Request) -> str | None:
    """The JSON-LD media type the request asks for, if any."""
    accept = request.headers.get("accept", "").lower()
    if "application/activity+json" in accept:
        return documents.ACTIVITY_JSON + "; charset=utf-8"
    if "application/ld+json" in accept:
        return documents.LD_JSON
    return None


def target(request: Request) -> str:
    """The path and query as the client sent them (what it signed)."""
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else request.url.path
    query = request.scope.get("query_string", b"").decode("latin-1")
    return f"{path}?{query}" if query else path


async def reader(request: Request, settings: Settings) -> Viewer:
    """Who reads: the signer's account, when the request carries a valid
    signature (draft-cavage or RFC 9421) of an actor stored here and not
    suspended, so that the privacy policy lets a remote follower read a
    followers-only post; anonymous otherwise (a signer not stored here
    follows nobody here). 401 in authorized-fetch mode without a valid
    signature. 403 for a request signed with a key of a server not
    federated with (suspended here; not allowed in the allow-list mode),
    asked before its key is (roost/domain/federation/signed_reads.py)."""
    header = signature_header(request.headers)
    if header is not None:
        if await signer_not_federated(services(request).db, settings, request.headers, header):
            log.info("signed fetch refused: its server is not federated with")
            raise Refused(403, NOT_FEDERATED)
        try:
            signed = await verify_request(
                services(request).db,
                settings,
                method=request.method,
                target=target(request),
                headers=request.headers,
                body=None,
            )
        except NotFederated as refused:
            log.info("signed fetch refused: %s", refused)
            raise Refused(403, NOT_FEDERATED) from None
        except SignatureRefused as refused:
            log.info("signed fetch refused: %s", refused)
            if settings.signed_reads_required:
                raise Refused(401, "Verification failed") from None
            return ANONYMOUS
        account_id = await remote.signing_account(services(request).db, signed.owner)
        log.debug("signed fetch by %s (account %s)", signed.owner, account_id)
        return ANONYMOUS if account_id is None else Viewer(account_id=account_id)
    if settings.signed_reads_required:
        raise Refused(401, "Request not signed")
    return ANONYMOUS


async def local_account(conn: AsyncConnection, viewer: Viewer, username: str) -> Visible[Account]:
    if not username or len(username) > 30:
        raise NotFound()
    return await account_queries.local_account(conn, viewer, username)


def plain_username(username: str) -> str:
    """A username as it may appear in a redirect (404 for anything else)."""
    if not USERNAME.match(username):
        raise NotFound()
    return username


def status_id_of(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 19:
        raise NotFound()
    return int(raw)


async def in_reply_to(conn: AsyncConnection, base: str, view: StatusView) -> str | None:
    """The address of the post a post answers (another server's own, for a
    remote parent)."""
    return await post_links.parent_uri(conn, base, view.status.in_reply_to_id)


async def quote_fields(conn: AsyncConnection, base: str, view: StatusView) -> dict[str, Any]:
    """A local post's quote and quote policy, as its Note carries them."""
    author = uris.actor_uri(base, view.account.username)
    return await quoted.note_fields(conn, base, view.status.id, view.status.visibility, author)
