"""The receiving half of Mastodon 4.5's quote approval (FEP-044f): another
server asks (``QuoteRequest``: ``object`` a local post, ``instrument`` the
quoting Note) whether its account may quote a local post, and is answered
per the post's quote policy (roost/domain/federation/quoted.py):

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
answers 404). Sending QuoteRequests is not done.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.tables import accounts, quotes, statuses
from roost.domain import privacy
from roost.domain.federation import quoted, uris
from roost.domain.federation.delivery import enqueue_delivery
from roost.domain.federation.notes import post_of, receive_create
from roost.domain.federation.remote import delivery_of
from roost.domain.jobs import JobContext

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
