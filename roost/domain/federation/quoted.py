"""Quote posts across servers, in the shape Mastodon 4.5 gives them (FEP-044f).

Above 500 lines: a quote's consent rules out and in (the Note's fields, the
states a received quote may be stored in, the authorization's checks) are
read together, so that the two directions cannot drift apart; the requests
and authorizations themselves are in quote_requests.py.

Out: a local post's Note names the post it quotes in ``quote`` (and, for
servers before FEP-044f, ``quoteUri`` and ``_misskey_quote``) while the
quote is accepted, or pending the answer of another server's author, and
the quoted post is public or unlisted: a Note never names a post its
readers may not see. An accepted quote of another server's post names the
``quoteAuthorization`` its author's server gave. Every local Note carries
``interactionPolicy.canQuote.automaticApproval``, its quote policy as
Mastodon writes it: the public collection (``public``), the author's
followers collection (``followers``), else the author alone (``nobody``). A
public or unlisted quote of a post of another server goes to that post's
author too (its own inbox), as Mastodon's reach includes the quoted account.

A local quote of another server's post asks its author (a ``QuoteRequest``,
quote_requests.py). It is ``accepted`` at once when the post's own
``canQuote`` lets the quoter quote it automatically (the public, or its
author's followers and the quoter follows them), as Mastodon does; else
``pending`` until the ``Accept`` (with its ``result``, the authorization)
or the ``Reject`` comes. A received ``Delete`` of the authorization revokes
it.

In: a received Note's ``quote`` (else ``quoteUri``, else ``_misskey_quote``)
is stored as the post's quote (the ``quotes`` row local quotes use), and read
per viewer as they are (roost/domain/quotes/queries.py): a quote never
shows a post the viewer may not see. The quoted post is:
  - a local post: ``accepted`` when its policy lets the quoting author quote
    it (as it would a local account: ``public``, or ``followers`` and the
    author follows), else ``rejected``, which shows nothing of it; a
    received quote cannot override its author's choice;
  - another server's post, with a ``quoteAuthorization`` named: ``pending``
    until a job (``VerifyQuote``, roost/domain/federation/threads.py)
    fetches the authorization, signed as the instance actor, and finds it
    served by the quoted author's server, attributed to them, naming the
    quoting post (``interactingObject``) and the quoted one
    (``interactionTarget``): then ``accepted``; else ``rejected``, showing
    nothing. A received ``Delete`` of the authorization revokes it;
  - another server's post, with none: ``accepted`` when its author is the
    quoting author or its ``canQuote`` (as received) lets anyone quote it
    or says nothing, else ``pending``;
  - another server's post not here: ``pending`` until a job
    (``FetchQuoted``, never run inside the inbox request) fetches it through
    the guarded fetch of threads (public and unlisted posts only) and the
    quote is settled as above; a fetch that fails for good leaves it
    pending, showing nothing.
A received Update of a Note that names another quoted post, another
authorization, or none, changes the stored quote the same way.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import (
    accounts,
    blocks,
    follows,
    quote_policies,
    quotes,
    remote_accounts,
    statuses,
)
from roost.domain import privacy
from roost.domain.federation import uris
from roost.domain.federation.jobs import FetchQuoted, VerifyQuote
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
    "quoteAuthorization": {"@id": "https://w3id.org/fep/044f#quoteAuthorization", "@type": "@id"},
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


async def _quoted(conn: AsyncConnection, status_id: int, *, waiting: bool = False) -> Any:
    """The post ``status_id`` quotes while the quote is accepted (or,
    ``waiting``, pending the answer of another server's author) and that
    post is public or unlisted (its id, uri, author's id, username, domain,
    and the quote's state and authorization)."""
    states = ("accepted", "pending") if waiting else ("accepted",)
    return (
        await conn.execute(
            select(
                statuses.c.id,
                statuses.c.uri,
                accounts.c.id.label("account_id"),
                accounts.c.username,
                accounts.c.domain,
                accounts.c.uri.label("author_uri"),
                quotes.c.id.label("quote_id"),
                quotes.c.state,
                quotes.c.authorization_uri,
            )
            .select_from(
                quotes.join(statuses, statuses.c.id == quotes.c.quoted_status_id).join(
                    accounts, accounts.c.id == statuses.c.account_id
                )
            )
            .where(
                quotes.c.status_id == status_id,
                quotes.c.state.in_(states),
                privacy.listed(statuses.c.visibility),
                statuses.c.reblog_of_id.is_(None),
            )
        )
    ).first()


async def note_fields(
    conn: AsyncConnection, base: str, status_id: int, visibility: Visibility, author_uri: str
) -> dict[str, Any]:
    """The quote fields of a local post's Note: ``quote`` and its older
    names when it quotes a post that may be named (with the
    ``quoteAuthorization`` another server gave), and its
    ``interactionPolicy``."""
    fields: dict[str, Any] = {}
    quoted = await _quoted(conn, status_id, waiting=True)
    if quoted is not None and (quoted.state == "accepted" or quoted.uri is not None):
        uri = quoted.uri or uris.status_uri(base, quoted.username, int(quoted.id))
        fields = {key: uri for key in QUOTE_KEYS}
        if quoted.state == "accepted" and quoted.authorization_uri is not None:
            fields["quoteAuthorization"] = quoted.authorization_uri
    policy = effective_policy(visibility, await stored_policy(conn, status_id))
    fields["interactionPolicy"] = can_quote(policy, author_uri)
    return fields


async def quoted_target(conn: AsyncConnection, status_id: int) -> Any:
    """The public or unlisted post ``status_id`` quotes, while the quote is
    accepted or pending (``_quoted``): what a QuoteRequest names."""
    return await _quoted(conn, status_id, waiting=True)


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
    quoted = await _quoted(conn, status_id, waiting=True)
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


def authorization_of(note: dict[str, Any]) -> str | None:
    """The ``quoteAuthorization`` a received Note names, if any."""
    value = uris.id_of(note.get("quoteAuthorization"))
    if value is None or not value.startswith(("https://", "http://")) or len(value) > 2048:
        return None
    return value


def _ids(value: Any) -> set[str]:
    items = value if isinstance(value, list) else [value]
    return {found for found in (uris.id_of(item) for item in items) if found is not None}


def remote_policy(note: dict[str, Any], author_uri: str, followers_url: str | None) -> str | None:
    """What a received Note's ``interactionPolicy.canQuote`` lets quote it
    without asking: ``public``, ``followers``, ``nobody``; None when it
    says nothing (a server before FEP-044f)."""
    policy = note.get("interactionPolicy")
    can = policy.get("canQuote") if isinstance(policy, dict) else None
    if not isinstance(can, dict):
        return None
    approved = _ids(can.get("automaticApproval"))
    if approved & {PUBLIC, "as:Public", "Public"}:
        return "public"
    if approved & {followers_url or f"{author_uri}/followers", f"{author_uri}/followers"}:
        return "followers"
    return "nobody"


async def store_remote_policy(tx: Tx, status_id: int, policy: str | None) -> None:
    """Keep a received post's quote policy as its server gave it (every one
    it gives is stored, ``public`` too: no row means it gave none)."""
    await tx.execute(delete(quote_policies).where(quote_policies.c.status_id == status_id))
    if policy is not None:
        await tx.execute(quote_policies.insert().values(status_id=status_id, policy=policy))


async def _remote_state(tx: Tx, row: Any, quoted_id: int, author_id: int) -> str:
    """``accepted`` or ``pending``: what the policy another server gave its
    post ``quoted_id`` says of a quote by ``author_id`` made without an
    authorization (none given, or one that says nothing: accepted)."""
    if int(row.account_id) == author_id:
        return "accepted"
    policy = await stored_policy(tx.conn, quoted_id)
    if policy in (None, "public"):
        return "accepted"
    if policy == "followers":
        followed = (
            await tx.execute(
                select(follows.c.id).where(
                    follows.c.account_id == author_id,
                    follows.c.target_account_id == int(row.account_id),
                )
            )
        ).first()
        if followed is not None:
            return "accepted"
    return "pending"


async def _state_for(
    tx: Tx, quoted_id: int, author_id: int, authorization: str | None = None
) -> tuple[str, bool]:
    """``accepted``, ``pending`` (an authorization to check, or another
    server's policy that does not let the author quote without one) or
    ``rejected``: what is known of a quote of ``quoted_id`` by
    ``author_id``; and whether the quoted post is local."""
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
        if authorization is not None and int(row.account_id) != author_id:
            return "pending", False
        return await _remote_state(tx, row, quoted_id, author_id), False
    visibility = Visibility(row.visibility)
    policy = effective_policy(visibility, await stored_policy(tx.conn, quoted_id))
    follows_it = policy == "followers" and bool(
        await follows_any(tx.conn, author_id, {int(row.account_id)})
    )
    allowed = current_user(
        policy,
        visibility,
        viewer_id=author_id,
        author_id=int(row.account_id),
        follows_author=follows_it,
    )
    return ("accepted" if allowed == "automatic" else "rejected"), True


async def allows(tx: Tx, quoted_id: int, author_id: int) -> bool:
    """Whether the policy of the post ``quoted_id`` lets ``author_id`` quote it."""
    state, _ = await _state_for(tx, quoted_id, author_id)
    return state == "accepted"


async def record_received(
    tx: Tx,
    base: str,
    status_id: int,
    author_id: int,
    uri: str,
    quoted: Any,
    authorization: str | None = None,
) -> None:
    """Store the quote of the received post ``status_id`` naming ``uri``:
    ``quoted`` is the post here it names (``post_of``), else None;
    ``authorization`` the ``quoteAuthorization`` the Note names."""
    values: dict[str, Any] = {
        "id": new_id(),
        "status_id": status_id,
        "account_id": author_id,
        "created_at": utcnow(),
    }
    if quoted is not None:
        state, local = await _state_for(tx, int(quoted.id), author_id, authorization)
        await tx.execute(
            quotes.insert().values(
                **values,
                quoted_status_id=int(quoted.id),
                quoted_account_id=int(quoted.account_id),
                state=state,
                authorization_uri=None if local else authorization,
            )
        )
        if state == "pending" and not local and authorization is not None:
            await enqueue(tx, VerifyQuote(status_id=status_id))
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
    await tx.execute(
        quotes.insert().values(**values, state="pending", authorization_uri=authorization)
    )
    await enqueue(tx, FetchQuoted(status_id=status_id, quoted_uri=uri))


async def settle(tx: Tx, status_id: int, quoted_id: int) -> bool:
    """Make the pending quote of ``status_id`` one of the fetched post
    ``quoted_id``, in the state its policy (or authorization, checked next)
    gives; False when there is no such quote any more."""
    author = (
        await tx.execute(select(statuses.c.account_id).where(statuses.c.id == quoted_id))
    ).scalar_one_or_none()
    quote = (
        await tx.execute(
            select(quotes.c.account_id, quotes.c.authorization_uri).where(
                quotes.c.status_id == status_id,
                quotes.c.state == "pending",
                quotes.c.quoted_status_id.is_(None),
            )
        )
    ).first()
    if author is None or quote is None:
        return False
    state, _ = await _state_for(tx, quoted_id, int(quote.account_id), quote.authorization_uri)
    done = await tx.execute(
        update(quotes)
        .where(
            quotes.c.status_id == status_id,
            quotes.c.state == "pending",
            quotes.c.quoted_status_id.is_(None),
        )
        .values(quoted_status_id=quoted_id, quoted_account_id=int(author), state=state)
    )
    if done.rowcount and state == "pending" and quote.authorization_uri is not None:
        await enqueue(tx, VerifyQuote(status_id=status_id))
    return bool(done.rowcount)


async def to_verify(conn: AsyncConnection, status_id: int) -> Any:
    """The pending quote of the received post ``status_id`` whose
    authorization is to be checked: the authorization's id, the quoting
    post's, the quoted post's and its author's."""
    quoting = statuses.alias("quoting")
    target = statuses.alias("target")
    return (
        await conn.execute(
            select(
                quotes.c.authorization_uri,
                quoting.c.uri.label("quoting_uri"),
                target.c.uri.label("quoted_uri"),
                accounts.c.uri.label("author_uri"),
            )
            .select_from(
                quotes.join(quoting, quoting.c.id == quotes.c.status_id)
                .join(target, target.c.id == quotes.c.quoted_status_id)
                .join(accounts, accounts.c.id == target.c.account_id)
            )
            .where(
                quotes.c.status_id == status_id,
                quotes.c.state == "pending",
                quotes.c.authorization_uri.is_not(None),
                quoting.c.uri.is_not(None),
                target.c.uri.is_not(None),
                accounts.c.uri.is_not(None),
            )
        )
    ).first()


def authorizes(document: dict[str, Any], quote: Any) -> bool:
    """Whether a fetched ``QuoteAuthorization`` (served under its id) is the
    quoted author's, of their server, for this quoting post and this quoted
    post (``to_verify``'s row)."""
    author = str(quote.author_uri)
    host = urlsplit(author).netloc.lower()
    return (
        document.get("type") == "QuoteAuthorization"
        and document.get("id") == quote.authorization_uri
        and urlsplit(str(quote.authorization_uri)).netloc.lower() == host
        and uris.id_of(document.get("attributedTo")) == author
        and uris.id_of(document.get("interactingObject")) == quote.quoting_uri
        and uris.id_of(document.get("interactionTarget")) == quote.quoted_uri
    )


async def verified(tx: Tx, status_id: int, authorization: str, holds: bool) -> bool:
    """The pending quote of ``status_id`` under ``authorization`` becomes
    accepted (it holds) or rejected; whether it was still pending."""
    done = await tx.execute(
        update(quotes)
        .where(
            quotes.c.status_id == status_id,
            quotes.c.state == "pending",
            quotes.c.authorization_uri == authorization,
        )
        .values(state="accepted" if holds else "rejected")
    )
    return bool(done.rowcount)


async def answered(tx: Tx, quote_id: int, author_id: int, authorization: str | None) -> int | None:
    """The quoted author ``author_id`` (of another server) answered the
    request of the local quote ``quote_id``: an Accept (``authorization``
    its result) makes it accepted under that authorization, a Reject (None)
    rejected, or revoked when it was accepted. The quoting post's id when
    the quote changed, else None."""
    row = (
        await tx.execute(
            select(quotes.c.status_id, quotes.c.state, quotes.c.authorization_uri)
            .select_from(quotes.join(statuses, statuses.c.id == quotes.c.status_id))
            .where(
                quotes.c.id == quote_id,
                quotes.c.quoted_account_id == author_id,
                statuses.c.uri.is_(None),
            )
        )
    ).first()
    if row is None or row.state not in ("pending", "accepted"):
        return None
    if authorization is not None:
        if row.state == "accepted" and row.authorization_uri == authorization:
            return None
        values: dict[str, Any] = {"state": "accepted", "authorization_uri": authorization}
    else:
        values = {"state": "revoked" if row.state == "accepted" else "rejected"}
    await tx.execute(update(quotes).where(quotes.c.id == quote_id).values(**values))
    return int(row.status_id)


async def revoked(tx: Tx, author_id: int, authorization: str) -> list[tuple[int, bool]]:
    """The quotes made under the authorization ``authorization`` of the
    account ``author_id`` (another server's, who gave it) are revoked: the
    quoting posts (their id, and whether they are local)."""
    rows = (
        await tx.execute(
            select(quotes.c.id, quotes.c.status_id, statuses.c.uri)
            .select_from(quotes.join(statuses, statuses.c.id == quotes.c.status_id))
            .where(
                quotes.c.authorization_uri == authorization,
                quotes.c.quoted_account_id == author_id,
                quotes.c.state.in_(("accepted", "pending")),
            )
        )
    ).all()
    if rows:
        await tx.execute(
            update(quotes).where(quotes.c.id.in_([int(r.id) for r in rows])).values(state="revoked")
        )
    return [(int(r.status_id), r.uri is None) for r in rows]


async def refresh_received(
    tx: Tx, base: str, status_id: int, author_id: int, note: dict[str, Any], quoted: Any
) -> bool:
    """A received edit of the post ``status_id``: its quote, when the Note
    now names another post (``quoted``: the one here, else None), another
    authorization, or none, is stored again as a new one would be; whether
    it changed."""
    uri = quoted_uri(note)
    authorization = authorization_of(note)
    row = (
        await tx.execute(
            select(quotes.c.quoted_status_id, quotes.c.authorization_uri, statuses.c.uri)
            .select_from(quotes.outerjoin(statuses, statuses.c.id == quotes.c.quoted_status_id))
            .where(quotes.c.status_id == status_id)
        )
    ).first()
    if row is None and uri is None:
        return False
    if row is not None and uri is not None and quoted is not None:
        kept = None if row.uri is None else authorization
        if row.quoted_status_id == int(quoted.id) and row.authorization_uri == kept:
            return False
    await tx.execute(delete(quotes).where(quotes.c.status_id == status_id))
    if uri is not None:
        await record_received(tx, base, status_id, author_id, uri, quoted, authorization)
    return True
