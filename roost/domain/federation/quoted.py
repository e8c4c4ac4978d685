"""Quote posts across servers, in the shape Mastodon 4.5 gives them (FEP-044f).

Out: a local post's Note names the post it quotes in ``quote`` (and, for
servers before FEP-044f, ``quoteUri`` and ``_misskey_quote``), only while the
quote is accepted and the quoted post is public or unlisted: a Note never
names a post its readers may not see. Every local Note carries
``interactionPolicy.canQuote.automaticApproval``, its quote policy as
Mastodon writes it: the public collection (``public``), the author's
followers collection (``followers``), else the author alone (``nobody``). A
public or unlisted quote of a post of another server goes to that post's
author too (its own inbox), as Mastodon's reach includes the quoted account.

In: a received Note's ``quote`` (else ``quoteUri``, else ``_misskey_quote``)
is stored as the post's quote (the ``quotes`` row local quotes use), and read
per viewer as they are (roost/domain/quotes/queries.py): a quote never
shows a post the viewer may not see. The quoted post is:
  - a local post: ``accepted`` when its policy lets the quoting author quote
    it (as it would a local account: ``public``, or ``followers`` and the
    author follows), else ``rejected``, which shows nothing of it; a
    received quote cannot override its author's choice;
  - another server's post stored here: ``accepted``;
  - another server's post not here: ``pending`` until a job
    (``FetchQuoted``, never run inside the inbox request) fetches it through
    the guarded fetch of threads (public and unlisted posts only) and makes
    the quote ``accepted``; a fetch that fails for good leaves it pending,
    showing nothing.
A QuoteRequest for a local post is answered (quote_requests.py); none is
sent, and a received ``quoteAuthorization`` is not checked.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import accounts, blocks, quotes, remote_accounts, statuses
from roost.domain import privacy
from roost.domain.federation import uris
from roost.domain.federation.jobs import FetchQuoted
from roost.domain.notifications.jobs import Notify
from roost.domain.quotes.queries import follows_any, stored_policy
from roost.domain.quotes.rules import current_user, effective_policy
from roost.ids import new_id
from roost.jobs.outbox import enqueue
from roost.visibility import Visibility

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
# The terms a Note with these fields adds to its context, as Mastodon names them.
QUOTE_TERMS: dict[str, Any] = {
    "quote": {"@id": "https://w3id.org/fep/044f#quote", "@type": "@id"},
    "quoteUri": "http://fedibird.com/ns#quoteUri",
    "_misskey_quote": "https://misskey-hub.net/ns#_misskey_quote",
    "gts": "https://gotosocial.org/ns#",
    "interactionPolicy": {"@id": "gts:interactionPolicy", "@type": "@id"},
    "canQuote": {"@id": "gts:canQuote", "@type": "@id"},
    "automaticApproval": {"@id": "gts:automaticApproval", "@type": "@id"},
}
# Where a received Note names the post it quotes, in order of preference.
QUOTE_KEYS = ("quote", "quoteUri", "_misskey_quote")


def can_quote(policy: str, author_uri: str) -> dict[str, Any]:
    """A post's ``interactionPolicy`` for its (effective) quote policy."""
    approved = {
        "public": [PUBLIC],
        "followers": [f"{author_uri}/followers"],
    }.get(policy, [author_uri])
    return {"canQuote": {"automaticApproval": approved}}


async def _quoted(conn: AsyncConnection, status_id: int) -> Any:
    """The post ``status_id`` quotes while the quote is accepted and that post
    is public or unlisted (its id, uri, author's username, domain, uri)."""
    return (
        await conn.execute(
            select(
                statuses.c.id,
                statuses.c.uri,
                accounts.c.id.label("account_id"),
                accounts.c.username,
                accounts.c.domain,
            )
            .select_from(
                quotes.join(statuses, statuses.c.id == quotes.c.quoted_status_id).join(
                    accounts, accounts.c.id == statuses.c.account_id
                )
            )
            .where(
                quotes.c.status_id == status_id,
                quotes.c.state == "accepted",
                privacy.listed(statuses.c.visibility),
                statuses.c.reblog_of_id.is_(None),
            )
        )
    ).first()


async def note_fields(
    conn: AsyncConnection, base: str, status_id: int, visibility: Visibility, author_uri: str
) -> dict[str, Any]:
    """The quote fields of a local post's Note: ``quote`` and its older
    names when it quotes a post that may be named, and its
    ``interactionPolicy``."""
    fields: dict[str, Any] = {}
    quoted = await _quoted(conn, status_id)
    if quoted is not None:
        uri = quoted.uri or uris.status_uri(base, quoted.username, int(quoted.id))
        fields = {key: uri for key in QUOTE_KEYS}
    policy = effective_policy(visibility, await stored_policy(conn, status_id))
    fields["interactionPolicy"] = can_quote(policy, author_uri)
    return fields


async def quoted_author_inbox(
    conn: AsyncConnection, status_id: int
) -> tuple[str, str | None] | None:
    """The own inbox of the author of the post another server's, that the
    public or unlisted local post ``status_id`` quotes (None when there is
    none, they are suspended, or they block the quoting author), with their
    server's shared inbox."""
    quoting = (
        await conn.execute(
            select(statuses.c.visibility, statuses.c.account_id).where(statuses.c.id == status_id)
        )
    ).first()
    if quoting is None or not Visibility(quoting.visibility).listed:
        return None
    quoted = await _quoted(conn, status_id)
    if quoted is None or quoted.domain is None:
        return None
    row = (
        await conn.execute(
            select(remote_accounts.c.inbox_url, remote_accounts.c.shared_inbox_url)
            .select_from(
                remote_accounts.join(accounts, accounts.c.id == remote_accounts.c.account_id)
            )
            .where(
                remote_accounts.c.account_id == quoted.account_id,
                accounts.c.suspended_at.is_(None),
            )
        )
    ).first()
    if row is None:
        return None
    blocked = (
        await conn.execute(
            select(blocks.c.id).where(
                blocks.c.account_id == quoted.account_id,
                blocks.c.target_account_id == quoting.account_id,
            )
        )
    ).first()
    if blocked is not None:
        return None
    return str(row.inbox_url), row.shared_inbox_url


def quoted_uri(note: dict[str, Any]) -> str | None:
    """The id of the post a received Note quotes, if it names one."""
    for key in QUOTE_KEYS:
        value = note.get(key)
        if isinstance(value, dict):
            value = value.get("id")
        if isinstance(value, str) and value.startswith(("https://", "http://")):
            return value if len(value) <= 2048 else None
    return None


async def _state_for(tx: Tx, quoted_id: int, author_id: int) -> tuple[str, bool]:
    """``accepted`` or ``rejected``: what the quoted post's policy says of a
    quote by ``author_id`` (another server's post: accepted); and whether
    the quoted post is local."""
    row = (
        await tx.execute(
            select(
                statuses.c.uri,
                statuses.c.visibility,
                statuses.c.reblog_of_id,
                statuses.c.account_id,
            ).where(statuses.c.id == quoted_id)
        )
    ).first()
    if row is None or row.reblog_of_id is not None:
        return "rejected", False
    if row.uri is not None:
        return "accepted", False
    visibility = Visibility(row.visibility)
    policy = effective_policy(visibility, await stored_policy(tx.conn, quoted_id))
    follows = policy == "followers" and bool(
        await follows_any(tx.conn, author_id, {int(row.account_id)})
    )
    allowed = current_user(
        policy,
        visibility,
        viewer_id=author_id,
        author_id=int(row.account_id),
        follows_author=follows,
    )
    return ("accepted" if allowed == "automatic" else "rejected"), True


async def allows(tx: Tx, quoted_id: int, author_id: int) -> bool:
    """Whether the policy of the post ``quoted_id`` lets ``author_id`` quote it."""
    state, _ = await _state_for(tx, quoted_id, author_id)
    return state == "accepted"


async def record_received(
    tx: Tx, base: str, status_id: int, author_id: int, uri: str, quoted: Any
) -> None:
    """Store the quote of the received post ``status_id`` naming ``uri``:
    ``quoted`` is the post here it names (``post_of``), else None."""
    values: dict[str, Any] = {
        "id": new_id(),
        "status_id": status_id,
        "account_id": author_id,
        "created_at": utcnow(),
    }
    if quoted is not None:
        state, local = await _state_for(tx, int(quoted.id), author_id)
        await tx.execute(
            quotes.insert().values(
                **values,
                quoted_status_id=int(quoted.id),
                quoted_account_id=int(quoted.account_id),
                state=state,
            )
        )
        if state == "accepted" and local and int(quoted.account_id) != author_id:
            await enqueue(
                tx,
                Notify(
                    type="quote",
                    account_id=int(quoted.account_id),
                    from_account_id=author_id,
                    status_id=status_id,
                ),
            )
        return
    if urlsplit(uri).netloc.lower() == urlsplit(base).netloc.lower():
        return  # a local address of no post: nothing to quote, nothing to fetch
    await tx.execute(quotes.insert().values(**values, state="pending"))
    await enqueue(tx, FetchQuoted(status_id=status_id, quoted_uri=uri))


async def settle(tx: Tx, status_id: int, quoted_id: int) -> bool:
    """Make the pending quote of ``status_id`` one of the fetched post
    ``quoted_id``; False when there is no such quote any more."""
    author = (
        await tx.execute(select(statuses.c.account_id).where(statuses.c.id == quoted_id))
    ).scalar_one_or_none()
    if author is None:
        return False
    done = await tx.execute(
        update(quotes)
        .where(quotes.c.status_id == status_id, quotes.c.state == "pending")
        .values(quoted_status_id=quoted_id, quoted_account_id=int(author), state="accepted")
    )
    return bool(done.rowcount)
