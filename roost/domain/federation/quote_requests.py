"""Mastodon 4.5's quote approval (FEP-044f), both ways.

Asked: another server asks (``QuoteRequest``: ``object`` a local post,
``instrument`` the quoting Note) whether its account may quote a local
post, and is answered per the post's quote policy
(roost/domain/federation/quoted.py):

- ``Accept`` (object: the request; ``result``: a ``QuoteAuthorization`` this
  server serves, ``/users/NAME/quote_authorizations/ID``, naming the quoting
  post as ``interactingObject`` and the quoted one as ``interactionTarget``)
  when the policy lets the author quote it and the quoting post is stored
  here with its quote accepted (the Note the request carries is stored
  then, as a received Create is, when it is not here yet);
- ``Reject`` otherwise.

Only public and unlisted local posts are answered (Mastodon's
``distributable``); a request about anything else is let be. The
authorization is served while the quote stays accepted (a revoked quote's
answers 404); revoking it sends ``Delete`` of the authorization to the
quoting author and to the quoted author's followers' servers.

Asking: a public or unlisted local post quoting another server's post
sends a ``QuoteRequest`` (``BASE/users/NAME#quote_requests/QUOTE_ID``,
the Note as ``instrument``) to the quoted author, a durable delivery as
any other. Their ``Accept`` (from the quoted author, with a ``result`` on
their own server) makes the quote accepted under that authorization and
sends the Note again (``Update``) with its ``quoteAuthorization``; their
``Reject`` makes it rejected (revoked, when it was accepted), and the
Update names the quoted post no more. A ``Delete`` of the authorization
from its author revokes every quote made under it here.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.tables import accounts, quotes, statuses
from roost.domain import privacy
from roost.domain.events import StatusRewritten
from roost.domain.federation import edits, quoted, uris
from roost.domain.federation.delivery import enqueue_delivery
from roost.domain.federation.jobs import SendQuoteRevoked
from roost.domain.federation.notes import (
    NOTE_CONTEXT,
    follower_inboxes,
    local_note,
    post_of,
    receive_create,
)
from roost.domain.federation.remote import delivery_of
from roost.domain.jobs import JobContext
from roost.jobs.registry import handles

CONTEXT: list[Any] = [
    "https://www.w3.org/ns/activitystreams",
    {
        "QuoteRequest": "https://w3id.org/fep/044f#QuoteRequest",
        "gts": "https://gotosocial.org/ns#",
        "quoteAuthorization": {
            "@id": "https://w3id.org/fep/044f#quoteAuthorization",
            "@type": "@id",
        },
        "interactingObject": {"@id": "gts:interactingObject"},
        "interactionTarget": {"@id": "gts:interactionTarget"},
    },
]


def authorization_uri(base: str, username: str, quote_id: int) -> str:
    return f"{uris.actor_uri(base, username)}/quote_authorizations/{quote_id}"


def request_uri(base: str, username: str, quote_id: int) -> str:
    """The id of the QuoteRequest of the local quote ``quote_id``."""
    return f"{uris.actor_uri(base, username)}#quote_requests/{quote_id}"


def _requested_quote(base: str, uri: str | None) -> int | None:
    """The local quote a QuoteRequest id of this server names."""
    if uri is None:
        return None
    found = re.fullmatch(
        re.escape(f"{base}/users/") + r"[A-Za-z0-9_]+#quote_requests/([0-9]{1,20})", uri
    )
    return None if found is None else int(found.group(1))


def answers_request(base: str, activity: dict[str, Any]) -> bool:
    """Whether an Accept or Reject answers a QuoteRequest of this server."""
    return _requested_quote(base, uris.id_of(activity.get("object"))) is not None


async def _local_post(conn: AsyncConnection, base: str, uri: str | None) -> Any:
    """The public or unlisted local post ``uri`` names (id, author, username)."""
    found = await post_of(conn, base, uri)
    if found is None:
        return None
    return (
        await conn.execute(
            select(statuses.c.id, statuses.c.account_id, accounts.c.username)
            .select_from(statuses.join(accounts, accounts.c.id == statuses.c.account_id))
            .where(
                statuses.c.id == found.id,
                statuses.c.uri.is_(None),
                statuses.c.reblog_of_id.is_(None),
                privacy.listed(statuses.c.visibility),
            )
        )
    ).first()


async def _accepted_quote(
    conn: AsyncConnection, quoting_uri: str, author_id: int, quoted_id: int
) -> int | None:
    """The id of the accepted quote of ``quoted_id`` by the post of
    ``author_id`` stored as ``quoting_uri``."""
    row = (
        await conn.execute(
            select(quotes.c.id)
            .select_from(quotes.join(statuses, statuses.c.id == quotes.c.status_id))
            .where(
                statuses.c.uri == quoting_uri,
                statuses.c.account_id == author_id,
                quotes.c.quoted_status_id == quoted_id,
                quotes.c.state == "accepted",
            )
        )
    ).first()
    return None if row is None else int(row.id)


async def receive_quote_request(
    ctx: JobContext, remote_id: int, actor_uri: str, activity: dict[str, Any]
) -> bool:
    base = ctx.settings.base_url
    request_id = uris.id_of(activity)
    instrument = activity.get("instrument")
    quoting_uri = uris.id_of(instrument)
    if request_id is None or quoting_uri is None:
        return False
    same_host = urlsplit(actor_uri).netloc.lower()
    if urlsplit(request_id).netloc.lower() != same_host:
        return False
    async with ctx.db.read() as conn:
        target = await _local_post(conn, base, uris.id_of(activity.get("object")))
        if target is None:
            return False
        quote_id = await _accepted_quote(conn, quoting_uri, remote_id, int(target.id))
    if (
        quote_id is None
        and isinstance(instrument, dict)
        and urlsplit(quoting_uri).netloc.lower() == same_host
    ):
        # The quoting Note, carried by the request, stored as a received one.
        await receive_create(ctx, remote_id, actor_uri, instrument)
        async with ctx.db.read() as conn:
            quote_id = await _accepted_quote(conn, quoting_uri, remote_id, int(target.id))
    if quote_id is None:
        # Not stored with an accepted quote: the policy refused it, or there
        # is no quoting post to authorize. Either way, no.
        async with ctx.db.write() as tx:
            allowed = await quoted.allows(tx, int(target.id), remote_id)
        if allowed:
            return False  # allowed, but nothing to authorize: let be
    delivery = await delivery_of(ctx.db, remote_id)
    if delivery is None:
        return False
    author = uris.actor_uri(base, str(target.username))
    request = {
        "id": request_id,
        "type": "QuoteRequest",
        "actor": actor_uri,
        "object": uris.status_uri(base, str(target.username), int(target.id)),
        "instrument": quoting_uri,
    }
    answer: dict[str, Any] = {
        "@context": CONTEXT,
        "type": "Accept" if quote_id is not None else "Reject",
        "actor": author,
        "to": actor_uri,
        "object": request,
    }
    if quote_id is not None:
        answer["id"] = f"{author}#accepts/quote_requests/{quote_id}"
        answer["result"] = authorization_uri(base, str(target.username), quote_id)
    else:
        digest = hashlib.sha256(request_id.encode()).hexdigest()[:16]
        answer["id"] = f"{author}#rejects/quote_requests/{digest}"
    async with ctx.db.write() as tx:
        await enqueue_delivery(tx, delivery.inbox_url, int(target.account_id), answer)
    return True


async def authorization(
    conn: AsyncConnection, base: str, username: str, quote_id: int
) -> dict[str, Any] | None:
    """The ``QuoteAuthorization`` of the accepted quote ``quote_id`` of a
    public or unlisted post of the local account ``username`` (not
    suspended); None when there is none."""
    target = statuses.alias("target")
    row = (
        await conn.execute(
            select(
                quotes.c.quoted_status_id,
                statuses.c.uri.label("quoting_uri"),
                accounts.c.username,
            )
            .select_from(
                quotes.join(statuses, statuses.c.id == quotes.c.status_id)
                .join(target, target.c.id == quotes.c.quoted_status_id)
                .join(accounts, accounts.c.id == target.c.account_id)
            )
            .where(
                quotes.c.id == quote_id,
                quotes.c.state == "accepted",
                accounts.c.domain.is_(None),
                accounts.c.suspended_at.is_(None),
                accounts.c.username == username,
                statuses.c.uri.is_not(None),
                target.c.uri.is_(None),
                privacy.listed(target.c.visibility),
            )
        )
    ).first()
    if row is None or row.quoted_status_id is None:
        return None
    return {
        "@context": CONTEXT,
        "id": authorization_uri(base, username, quote_id),
        "type": "QuoteAuthorization",
        "attributedTo": uris.actor_uri(base, username),
        "interactingObject": str(row.quoting_uri),
        "interactionTarget": uris.status_uri(base, username, int(row.quoted_status_id)),
    }


async def send_quote_request(ctx: JobContext, status_id: int) -> None:
    """Ask the author of the other server's post the new local post
    ``status_id`` quotes (public or unlisted only) to authorize it."""
    base = ctx.settings.base_url
    async with ctx.db.read() as conn:
        # Whether it quotes another server's post first: most posts quote
        # nothing, and then the post itself need not be read.
        inbox = await quoted.quoted_author_inbox(conn, status_id)
        if inbox is None:
            return
        row = (
            await conn.execute(
                select(statuses, accounts.c.username.label("author_username"))
                .select_from(statuses.join(accounts, accounts.c.id == statuses.c.account_id))
                .where(
                    statuses.c.id == status_id,
                    statuses.c.uri.is_(None),
                    accounts.c.domain.is_(None),
                )
            )
        ).first()
        if row is None:
            return  # another server's post: its own server asks
        target = await quoted.quoted_target(conn, status_id)
    if target is None or target.uri is None:
        return
    username = str(row.author_username)
    note = await local_note(ctx.db, base, username, row)
    request = {
        "@context": [NOTE_CONTEXT[0], {**NOTE_CONTEXT[1], **CONTEXT[1]}],
        "id": request_uri(base, username, int(target.quote_id)),
        "type": "QuoteRequest",
        "actor": uris.actor_uri(base, username),
        "to": target.author_uri,
        "object": str(target.uri),
        "instrument": note,
    }
    async with ctx.db.write() as tx:
        await enqueue_delivery(tx, inbox[0], int(row.account_id), request)


async def receive_answer(
    ctx: JobContext, remote_id: int, actor_uri: str, activity: dict[str, Any], accepted: bool
) -> bool:
    """An Accept or Reject of a QuoteRequest of this server, from the quoted
    author; the quoting post is sent again (Update) when its quote changed."""
    quote_id = _requested_quote(ctx.settings.base_url, uris.id_of(activity.get("object")))
    if quote_id is None:
        return False
    authorization: str | None = None
    if accepted:
        authorization = uris.id_of(activity.get("result"))
        if (
            authorization is None
            or len(authorization) > 2048
            or not authorization.startswith(("https://", "http://"))
            or urlsplit(authorization).netloc.lower() != urlsplit(actor_uri).netloc.lower()
        ):
            return False  # an authorization only its author's server may give
    async with ctx.db.write() as tx:
        status_id = await quoted.answered(tx, quote_id, remote_id, authorization)
        if status_id is not None:
            tx.emit(StatusRewritten(status_id))
    if status_id is None:
        return False
    also = await delivery_of(ctx.db, remote_id)
    await edits.publish_update(ctx, status_id, updated=utcnow(), also=also)
    return True


async def receive_revocation(ctx: JobContext, remote_id: int, uri: str | None) -> bool:
    """A Delete of a QuoteAuthorization its author's server gave: the quotes
    made under it are revoked (local quoting posts are sent again); False
    when it names none."""
    if uri is None:
        return False
    async with ctx.db.write() as tx:
        changed = await quoted.revoked(tx, remote_id, uri)
        for status_id, _ in changed:
            tx.emit(StatusRewritten(status_id))
    if not changed:
        return False
    moment = utcnow()
    also = await delivery_of(ctx.db, remote_id)
    for status_id, local in changed:
        if local:
            await edits.publish_update(ctx, status_id, updated=moment, also=also)
    return True


@handles(SendQuoteRevoked)
async def send_quote_revoked(ctx: JobContext, job: SendQuoteRevoked) -> None:
    if not ctx.settings.federation:
        return
    base = ctx.settings.base_url
    target = statuses.alias("target")
    async with ctx.db.read() as conn:
        row = (
            await conn.execute(
                select(
                    quotes.c.account_id.label("quoter_id"),
                    quotes.c.quoted_status_id,
                    statuses.c.uri.label("quoting_uri"),
                    accounts.c.id.label("author_id"),
                    accounts.c.username,
                )
                .select_from(
                    quotes.join(statuses, statuses.c.id == quotes.c.status_id)
                    .join(target, target.c.id == quotes.c.quoted_status_id)
                    .join(accounts, accounts.c.id == target.c.account_id)
                )
                .where(
                    quotes.c.id == job.quote_id,
                    quotes.c.state == "revoked",
                    statuses.c.uri.is_not(None),
                    target.c.uri.is_(None),
                    accounts.c.domain.is_(None),
                )
            )
        ).first()
    if row is None:
        return
    quoter = await delivery_of(ctx.db, int(row.quoter_id))
    if quoter is None:
        return
    username = str(row.username)
    author = uris.actor_uri(base, username)
    stamp = authorization_uri(base, username, job.quote_id)
    activity = {
        "@context": CONTEXT,
        "id": f"{stamp}#delete",
        "type": "Delete",
        "actor": author,
        "to": [quoted.PUBLIC],
        "object": {
            "id": stamp,
            "type": "QuoteAuthorization",
            "attributedTo": author,
            "interactingObject": str(row.quoting_uri),
            "interactionTarget": uris.status_uri(base, username, int(row.quoted_status_id)),
        },
    }
    inboxes = set(await follower_inboxes(ctx.db, int(row.author_id)))
    if quoter.shared_inbox_url not in inboxes:
        inboxes.add(quoter.inbox_url)
    async with ctx.db.write() as tx:
        for inbox in sorted(inboxes):
            await enqueue_delivery(tx, inbox, int(row.author_id), activity)
