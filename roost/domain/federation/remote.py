"""Accounts of other servers, as rows of ``accounts`` with a domain.

``resolve_acct`` turns ``name@domain`` into such a row: WebFinger on that
domain names the actor, the actor's document is fetched (signed by the
instance actor, through the one outbound client), and the account is stored
or brought up to date. ``account_for_uri`` does the same from an actor's id,
as an activity names it. Where to deliver to the account (its inbox, its
server's shared inbox, its followers collection) is kept in
``remote_accounts``.

A remote account's ``username_key`` is ``@`` and its id: local usernames are
unique by that column and cannot contain ``@``, so a remote ``bob`` never
stands in the way of a local one, and lookups of local accounts by name
(which also ask for ``domain IS NULL``) never find a remote one.

In insecure mode (tests, labs) WebFinger is asked over plain http; otherwise
over https only. A server staff suspended (roost/domain/blocks/domains.py) is
not asked, and none of its accounts is stored; a silenced server's accounts
are stored silenced.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import nh3
import orjson
from sqlalchemy import func, select, update

from roost.clock import utcnow
from roost.config import Settings
from roost.db.engine import Database
from roost.db.tables import accounts, remote_accounts
from roost.domain.blocks.domains import DomainPolicy, domain_policy
from roost.domain.federation import signing, uris
from roost.domain.federation._upsert import insert_absent
from roost.errors import Invalid, NotFound
from roost.ids import new_id
from roost.keys.ring import seal
from roost.net.http import OutboundRefused

log = logging.getLogger("roost.federation")

ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
MAX_DOCUMENT_BYTES = 512 * 1024
# What ``name@domain`` may be made of before anything is asked of ``domain``.
ACCT_USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
ACCT_DOMAIN = re.compile(r"^(?=.{1,253}(:|$))[a-z0-9](?:[a-z0-9.\-]*[a-z0-9])?(:[0-9]{1,5})?$")
ACTOR_TYPES = {"Person", "Service", "Application", "Group", "Organization"}
# An actor fetched longer ago than this is fetched again when it is named.
REFRESH_AFTER = timedelta(days=1)
# What survives of a remote profile's HTML (as Mastodon's own sanitizer keeps).
ALLOWED_TAGS = {
    "p",
    "br",
    "a",
    "span",
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ul",
    "ol",
    "li",
    "blockquote",
    "code",
    "pre",
    "del",
    "s",
}


class RemoteRefused(NotFound):
    """The remote account could not be found or read (404 to a client).
    ``transient``: its server did not answer, or answered 5xx or 429 (worth
    trying again later), rather than answering something unusable."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class Delivery:
    """Where a remote account takes activities."""

    account_id: int
    inbox_url: str
    shared_inbox_url: str | None
    followers_url: str | None


async def policy_for(
    db: Database, address: str, settings: Settings | None = None
) -> DomainPolicy | None:
    """What staff decided about the server of ``address`` (a URL or a domain,
    a port ignored): roost/domain/blocks/domains.py, in the federation mode
    of ``settings`` (without them, its blocks only). None for a name that
    is no domain."""
    host = urlsplit(address).hostname if "://" in address else address.split(":")[0]
    if not host:
        return None
    try:
        async with db.read() as conn:
            allowlist = settings is not None and settings.allowlist_federation
            return await domain_policy(conn, host, allowlist=allowlist)
    except Invalid:
        return None


async def federates_with(db: Database, settings: Settings, address: str) -> bool:
    """Whether the server of ``address`` is federated with: not suspended,
    and allowed when the allow-list mode is on (a name that is no domain is
    not, in that mode)."""
    policy = await policy_for(db, address, settings)
    if policy is None:
        return not settings.allowlist_federation
    return not policy.refused


async def refuse_suspended(db: Database, settings: Settings, address: str) -> None:
    """RemoteRefused (for good) when the server of ``address`` is not
    federated with (staff suspended it; or, in the allow-list mode, did not
    allow it): nothing is fetched from it, stored of it, or acted on."""
    if not await federates_with(db, settings, address):
        raise RemoteRefused("That server is not federated with here")


def clean_html(value: Any, limit: int = 65536) -> str:
    """Another server's HTML, with only harmless markup left."""
    if not isinstance(value, str):
        return ""
    return nh3.clean(
        value[:limit],
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "class"}, "span": {"class"}},
        link_rel="nofollow noopener noreferrer",
        url_schemes={"http", "https"},
    )


def _scheme(settings: Settings) -> str:
    return "http" if settings.federation_allow_insecure else "https"


async def _get_json(db: Database, settings: Settings, url: str, accept: str) -> Any:
    return (await _get_json_at(db, settings, url, accept))[1]


async def _get_json_at(db: Database, settings: Settings, url: str, accept: str) -> tuple[str, Any]:
    """The JSON document at ``url`` and the address that served it (after
    redirects)."""
    # Addresses come from other servers' documents: only plain printable
    # ASCII ones are tried (others could not be requested anyway).
    if any(not 33 <= ord(c) <= 126 for c in url) or len(url) > 2048:
        raise RemoteRefused("That address is not fetched")
    try:
        allowed = uris.peer_url_allowed(settings, url)
    except ValueError:
        allowed = False
    if not allowed:
        raise RemoteRefused("That address is not fetched")
    await refuse_suspended(db, settings, url)
    try:
        fetched = await signing.signed_fetch(
            db,
            settings,
            url,
            await signing.instance_key(db, settings),
            accept=accept,
            max_bytes=MAX_DOCUMENT_BYTES,
        )
    except OutboundRefused as error:
        log.info("remote fetch refused: %s", error)
        raise RemoteRefused("The other server could not be reached", transient=True) from None
    except ValueError:  # a name no resolver takes (an empty or too long label)
        raise RemoteRefused("That address is not fetched") from None
    if fetched.status != 200:
        transient = fetched.status >= 500 or fetched.status in (408, 429)
        raise RemoteRefused(f"The other server answered {fetched.status}", transient=transient)
    try:
        return fetched.url, orjson.loads(fetched.body)
    except orjson.JSONDecodeError:
        raise RemoteRefused("The other server answered no JSON") from None


async def webfinger(db: Database, settings: Settings, username: str, domain: str) -> str:
    """The actor id WebFinger on ``domain`` gives for ``username``."""
    url = f"{_scheme(settings)}://{domain}/.well-known/webfinger?resource=acct:{username}@{domain}"
    document = await _get_json(db, settings, url, "application/jrd+json, application/json")
    links = document.get("links") if isinstance(document, dict) else None
    for link in links if isinstance(links, list) else []:
        if (
            isinstance(link, dict)
            and link.get("rel") == "self"
            and isinstance(link.get("href"), str)
            and ("activity+json" in str(link.get("type")) or "ld+json" in str(link.get("type")))
        ):
            return str(link["href"])
    raise RemoteRefused("WebFinger named no actor")


def _string(value: Any, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _url(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("href"), str):
        return str(value["href"])
    if isinstance(value, list) and value:
        return _url(value[0])
    return None


def _checked_actor(document: Any, uri: str) -> dict[str, Any]:
    """The actor document, when it is one, under the id it was fetched by."""
    if not isinstance(document, dict) or document.get("type") not in ACTOR_TYPES:
        raise RemoteRefused("That is no actor")
    if document.get("id") != uri:
        raise RemoteRefused("The actor's document names another id")
    if not isinstance(document.get("preferredUsername"), str) or not document["preferredUsername"]:
        raise RemoteRefused("The actor has no username")
    if not isinstance(document.get("inbox"), str):
        raise RemoteRefused("The actor has no inbox")
    return document


async def fetch_actor(db: Database, settings: Settings, uri: str) -> dict[str, Any]:
    return _checked_actor(await _get_json(db, settings, uri, ACCEPT), uri)


def _checked_note(document: Any, uri: str) -> dict[str, Any]:
    """The Note (or Article, or Question: a post with a poll) served at
    ``uri``, under that id, with an author on the same host (as Mastodon
    checks a fetched object)."""
    if not isinstance(document, dict) or document.get("type") not in (
        "Note",
        "Article",
        "Question",
    ):
        raise RemoteRefused("That is no note")
    if document.get("id") != uri:
        raise RemoteRefused("The note's document names another id")
    author = document.get("attributedTo")
    if not isinstance(author, str) or urlsplit(author).netloc != urlsplit(uri).netloc:
        raise RemoteRefused("The note's author is not of its server")
    return document


async def fetch_authorization(db: Database, settings: Settings, uri: str) -> dict[str, Any]:
    """The ``QuoteAuthorization`` its server serves at ``uri``, under that id
    and at that address (no redirect elsewhere is followed into trust)."""
    served, document = await _get_json_at(db, settings, uri, ACCEPT)
    if (
        served != uri
        or not isinstance(document, dict)
        or document.get("id") != uri
        or document.get("type") != "QuoteAuthorization"
    ):
        raise RemoteRefused("That is no quote authorization")
    return document


async def fetch_note(db: Database, settings: Settings, uri: str) -> dict[str, Any]:
    """The Note its server serves at ``uri``, under that id (``_checked_note``)."""
    return _checked_note(await _get_json(db, settings, uri, ACCEPT), uri)


async def fetch_note_at(db: Database, settings: Settings, url: str) -> dict[str, Any]:
    """The Note a post's address names: its id, or another address of it (a
    page such as ``https://host/@name/ID`` that answers ActivityPub with the
    Note, or redirects to it). A Note served under another id is fetched
    again from that id, once, and taken only as that id's server serves it:
    a document is never trusted for an id it was not fetched from (the
    address that served it, after redirects)."""
    served, document = await _get_json_at(db, settings, url, ACCEPT)
    named = document.get("id") if isinstance(document, dict) else None
    if isinstance(named, str) and named != served:
        return await fetch_note(db, settings, named)
    return _checked_note(document, served)


async def store_actor(db: Database, document: dict[str, Any]) -> int:
    """Insert or bring up to date the account of a checked actor document."""
    uri = str(document["id"])
    domain = urlsplit(uri).netloc.lower()
    # Its document was fetched after the server's policy was asked
    # (``_get_json``); a suspension since is checked once more here.
    policy = await policy_for(db, uri)
    if policy is not None and policy.suspended:
        raise RemoteRefused("That server is not federated with here")
    # A silenced server's accounts are heard only by their followers here
    # (the privacy policy's ``heard``), as a silenced local account is.
    # Stamped with the block's time, as roost/domain/blocks/domains.py stamps
    # the accounts stored before it: lifting the block lifts the silence.
    silenced = (
        policy.block.created_at if policy is not None and policy.block and policy.silenced else None
    )
    endpoints = document.get("endpoints")
    shared = endpoints.get("sharedInbox") if isinstance(endpoints, dict) else None
    now = utcnow()
    profile = {
        "username": _string(document["preferredUsername"], 30),
        "display_name": _string(document.get("name"), 100),
        "locked": bool(document.get("manuallyApprovesFollowers")),
        "bot": document.get("type") in ("Service", "Application"),
        "discoverable": bool(document.get("discoverable", False)),
        "indexable": bool(document.get("indexable", False)),
        "url": _url(document.get("url")) or uri,
    }
    delivery = {
        "inbox_url": str(document["inbox"]),
        "shared_inbox_url": shared if isinstance(shared, str) else None,
        "followers_url": document.get("followers")
        if isinstance(document.get("followers"), str)
        else None,
        "fetched_at": now,
    }
    async with db.write() as tx:
        found = (
            await tx.execute(select(accounts.c.id).where(accounts.c.uri == uri))
        ).scalar_one_or_none()
        if found is None:
            account_id = new_id()
            inserted = await tx.execute(
                insert_absent(tx, accounts, accounts.c.uri).values(
                    id=account_id,
                    username_key=f"@{account_id}",
                    note=seal(account_id, ""),
                    note_html=seal(account_id, clean_html(document.get("summary"))),
                    fields=[],
                    hide_collections=False,
                    followers_count=0,
                    following_count=0,
                    statuses_count=0,
                    created_at=now,
                    domain=domain,
                    uri=uri,
                    silenced_at=silenced,
                    **profile,
                )
            )
            if not inserted.rowcount:  # stored meanwhile by another request
                found = (
                    await tx.execute(select(accounts.c.id).where(accounts.c.uri == uri))
                ).scalar_one()
        if found is not None:
            account_id = int(found)
            await tx.execute(
                update(accounts)
                .where(accounts.c.id == account_id)
                .values(note_html=seal(account_id, clean_html(document.get("summary"))), **profile)
            )
        stored = await tx.execute(
            insert_absent(tx, remote_accounts, remote_accounts.c.account_id).values(
                account_id=account_id, **delivery
            )
        )
        if not stored.rowcount:
            await tx.execute(
                update(remote_accounts)
                .where(remote_accounts.c.account_id == account_id)
                .values(**delivery)
            )
    return account_id


async def account_for_uri(
    db: Database, settings: Settings, uri: str, *, refresh: bool = False
) -> int:
    """The account of the actor ``uri``: the stored one, fetched when it is
    not stored, older than a day, or ``refresh``."""
    async with db.read() as conn:
        row = (
            await conn.execute(
                select(accounts.c.id, accounts.c.domain, remote_accounts.c.fetched_at)
                .select_from(accounts.outerjoin(remote_accounts))
                .where(accounts.c.uri == uri)
            )
        ).first()
    if row is not None and (
        row.domain is None
        or (
            not refresh and row.fetched_at is not None and utcnow() - row.fetched_at < REFRESH_AFTER
        )
    ):
        return int(row.id)
    return await store_actor(db, await fetch_actor(db, settings, uri))


def split_acct(acct: str) -> tuple[str, str]:
    """``name@domain`` (a leading ``@`` allowed) as its parts, lower-cased domain."""
    username, _, domain = acct.strip().lstrip("@").partition("@")
    return username.strip(), domain.strip().lower()


async def stored_acct(db: Database, username: str, domain: str) -> int | None:
    async with db.read() as conn:
        found = (
            await conn.execute(
                # Two actors of one server may have had one name (one
                # renamed, another took it): the newest row answers.
                select(accounts.c.id)
                .where(
                    accounts.c.domain == domain,
                    func.lower(accounts.c.username) == username.lower(),
                )
                .order_by(accounts.c.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
    return None if found is None else int(found)


async def resolve_acct(db: Database, settings: Settings, acct: str) -> int:
    """The account ``name@domain`` of another server, stored or fetched now
    (WebFinger, then the actor); RemoteRefused when it cannot be had."""
    username, domain = split_acct(acct)
    if (
        not ACCT_USERNAME.match(username)
        or not ACCT_DOMAIN.match(domain)
        or domain == settings.domain.lower()
    ):
        raise RemoteRefused("Not an account of another server")
    found = await stored_acct(db, username, domain)
    if found is not None:
        return await account_for_uri_by_id(db, settings, found)
    await refuse_suspended(db, settings, domain)
    actor = await webfinger(db, settings, username, domain)
    return await account_for_uri(db, settings, actor)


async def account_for_uri_by_id(db: Database, settings: Settings, account_id: int) -> int:
    async with db.read() as conn:
        uri = (
            await conn.execute(select(accounts.c.uri).where(accounts.c.id == account_id))
        ).scalar_one()
    try:
        return await account_for_uri(db, settings, str(uri))
    except RemoteRefused:
        return account_id  # the stored copy, when its server is away


async def delivery_of(db: Database, account_id: int) -> Delivery | None:
    async with db.read() as conn:
        row = (
            await conn.execute(
                select(remote_accounts).where(remote_accounts.c.account_id == account_id)
            )
        ).first()
    if row is None:
        return None
    return Delivery(row.account_id, row.inbox_url, row.shared_inbox_url, row.followers_url)


async def actor_deleted(db: Database, uri: str) -> bool:
    """Its server says the actor is gone: the stored account is suspended
    (hidden with its posts by the privacy policy, as Mastodon hides a
    deleted remote account), and nothing is delivered to it any more."""
    async with db.write() as tx:
        found = (
            await tx.execute(
                select(accounts.c.id).where(accounts.c.uri == uri, accounts.c.domain.is_not(None))
            )
        ).scalar_one_or_none()
        if found is None:
            return True  # never known here
        await tx.execute(
            update(accounts)
            .where(accounts.c.id == found, accounts.c.suspended_at.is_(None))
            .values(suspended_at=utcnow())
        )
    return True


async def signing_account(db: Database, uri: str) -> int | None:
    """The stored account of another server's actor ``uri`` as a reader of
    this server's ActivityPub documents (a signed fetch): its id, or None
    when it is not stored or is suspended (its server blocked, its actor
    deleted), which then reads as nobody."""
    async with db.read() as conn:
        found = (
            await conn.execute(
                select(accounts.c.id).where(
                    accounts.c.uri == uri,
                    accounts.c.domain.is_not(None),
                    accounts.c.suspended_at.is_(None),
                )
            )
        ).scalar_one_or_none()
    return None if found is None else int(found)
