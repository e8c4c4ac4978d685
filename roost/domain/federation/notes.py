"""Posts across servers: Create(Note) and Delete(Note), both ways.

Above 500 lines: the Note both ways, out (the destinations by visibility,
the Note built once) and in (addressing, tags, mentions, media and polls
of a received one), shares its reading of addressing and tags; the receiving
half is next to be moved to a module of its own, with the private helpers
edits.py borrows.

Out (``publish``, ``withdraw``: called by the jobs of a post's life,
roost/domain/statuses/handlers.py): a local post goes as Create(Note) to the
inboxes ``destination_inboxes`` chooses by its visibility: a public, unlisted
or followers-only one to its author's followers on other servers (one
delivery per server that offers a shared inbox, else per follower inbox) and
to the accounts of other servers it mentions; a direct one only to the own
inboxes of the accounts of other servers it mentions. Where it went is
recorded (roost/domain/federation/sent.py); its deletion goes as
Delete(Tombstone) to every inbox it went to and to the followers' inboxes of
the moment, so a server whose followers left since is told too. Edits go as
Update(Note) (edits.py), boosts as Announce (interactions.py).

In: a received Note whose author is the actor who signed, and that concerns
someone here (its author is followed here, it names a local account, or it
replies to or quotes a post here: anything else is unsolicited), becomes a post of
that remote account, with the Note's id and page (``statuses.uri``, ``url``)
and the visibility its addressing says (Mastodon's reading):
  - the public collection in ``to``: public; in ``cc``: unlisted;
  - else the author's followers collection in ``to`` or ``cc``: followers-only;
  - else, when it names local accounts (addressed to them, or a ``Mention``
    tag): direct, in their conversations;
  - else: not stored (it is for nobody here).
Local accounts it mentions are linked (``mentions``): they are notified, and
the policy lets them read a followers-only or direct note. Accounts of other
servers its ``Mention`` tags name (its author's or a third server's) are
linked too: those known here at once, the others once a job has looked them
up by their actor id (roost/domain/federation/mention_lookup.py); they do not
make a note concern someone here. Its ``Hashtag`` tags link it to its
tags (the one tag lookup of local posts), and its media and poll are kept
as roost/domain/federation/attached.py says.
From there on it is a post like any other: every read goes through the
privacy policy (roost/domain/privacy.py), so a followers-only one shows only
to the author's (local) followers, and the post's job fans it into their home
timelines. A received Delete removes the post of that actor with that id.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import exists, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.engine import Database, Tx
from roost.db.tables import (
    accounts,
    blocks,
    follows,
    mentions,
    remote_accounts,
    status_tags,
    statuses,
)
from roost.domain.conversations.actions import do_deliver_direct
from roost.domain.events import StatusCreated
from roost.domain.federation import attached, post_links, quoted, sent, uris
from roost.domain.federation.delivery import enqueue_delivery
from roost.domain.federation.jobs import FetchAncestors, LinkMentions
from roost.domain.federation.remote import clean_html
from roost.domain.jobs import JobContext
from roost.domain.statuses import actions as status_actions
from roost.domain.statuses.jobs import StatusPublished
from roost.domain.statuses.rows import new_status_row
from roost.domain.tags.lookup import tag_ids, tag_key
from roost.domain.types import Viewer
from roost.errors import NotFound
from roost.ids import new_id
from roost.jobs.outbox import enqueue
from roost.visibility import Visibility

log = logging.getLogger("roost.federation")

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
PUBLIC_ALIASES = {PUBLIC, "as:Public", "Public"}
NOTE_CONTEXT: list[Any] = [
    "https://www.w3.org/ns/activitystreams",
    {"sensitive": "as:sensitive", **quoted.QUOTE_TERMS},
]
# What a received post may be: a Question is a post with a poll.
NOTE_TYPES = ("Note", "Article", "Question")
SENT = (Visibility.PUBLIC, Visibility.UNLISTED, Visibility.PRIVATE)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


async def follower_inboxes(db: Database, author_id: int) -> list[str]:
    """Where the author's followers on other servers take deliveries: each
    server's shared inbox once, else each follower's own inbox."""
    async with db.read() as conn:
        rows = (
            await conn.execute(
                select(remote_accounts.c.inbox_url, remote_accounts.c.shared_inbox_url)
                .select_from(
                    follows.join(
                        remote_accounts, remote_accounts.c.account_id == follows.c.account_id
                    ).join(accounts, accounts.c.id == follows.c.account_id)
                )
                .where(follows.c.target_account_id == author_id, accounts.c.suspended_at.is_(None))
            )
        ).all()
    return sorted({str(r.shared_inbox_url or r.inbox_url) for r in rows})


async def destination_inboxes(db: Database, status_id: int) -> list[str]:
    """The inboxes of other servers a local post (not a boost) is sent to,
    by its visibility; the one place that decides who gets it.

    - public, unlisted, followers-only: the author's followers' servers
      (``follower_inboxes``: each server's shared inbox once, else each
      follower's inbox), and the own inbox of each account of another server
      it mentions, unless that account's server already gets it through the
      shared inbox its followers there use (that delivery names it too);
    - direct: only the own inbox of each account of another server it
      mentions; never a shared inbox (a server's shared inbox hands the post
      to whoever the server thinks it concerns), never anyone else.

    So a followers-only or direct post goes to no server that has none of
    the author's followers and none of the accounts it mentions. Suspended
    accounts (a deleted actor, a suspended server's) get nothing, nor does a
    mentioned account that blocks the author (a received Block,
    roost/domain/federation/blocks.py)."""
    async with db.read() as conn:
        row = (
            await conn.execute(
                select(
                    statuses.c.account_id,
                    statuses.c.visibility,
                    statuses.c.reblog_of_id,
                    statuses.c.uri,
                ).where(statuses.c.id == status_id)
            )
        ).first()
        if row is None or row.reblog_of_id is not None or row.uri is not None:
            return []
        mentioned = (
            await conn.execute(
                select(remote_accounts.c.inbox_url, remote_accounts.c.shared_inbox_url)
                .select_from(
                    mentions.join(
                        remote_accounts, remote_accounts.c.account_id == mentions.c.account_id
                    ).join(accounts, accounts.c.id == mentions.c.account_id)
                )
                .where(
                    mentions.c.status_id == status_id,
                    accounts.c.suspended_at.is_(None),
                    # An account that blocks the author is sent nothing of it.
                    ~exists().where(
                        blocks.c.account_id == mentions.c.account_id,
                        blocks.c.target_account_id == row.account_id,
                    ),
                )
            )
        ).all()
    visibility = Visibility(row.visibility)
    if visibility == Visibility.DIRECT:
        return sorted({str(m.inbox_url) for m in mentioned})
    if visibility not in SENT:
        return []
    inboxes = set(await follower_inboxes(db, row.account_id))
    for m in mentioned:
        if m.shared_inbox_url is None or m.shared_inbox_url not in inboxes:
            inboxes.add(str(m.inbox_url))
    async with db.read() as conn:
        quoted_inbox = await quoted.quoted_author_inbox(conn, status_id)
        replied_inbox = await post_links.replied_author_inbox(conn, status_id)
    # The quoted author's and the answered author's servers hear of the post,
    # as Mastodon's reach says.
    for reached in (quoted_inbox, replied_inbox):
        if reached is not None and reached[1] not in inboxes:
            inboxes.add(reached[0])
    return sorted(inboxes)


async def _mentioned_actors(db: Database, base: str, status_id: int) -> list[tuple[str, str]]:
    """(actor id, ``@name@domain``) of each account a post mentions, local
    or of another server, in the order of their ids."""
    async with db.read() as conn:
        rows = (
            await conn.execute(
                select(accounts.c.username, accounts.c.domain, accounts.c.uri)
                .select_from(mentions.join(accounts, accounts.c.id == mentions.c.account_id))
                .where(mentions.c.status_id == status_id)
                .order_by(accounts.c.id)
            )
        ).all()
    own = urlsplit(base).netloc
    return [
        (str(r.uri), f"@{r.username}@{r.domain}")
        if r.domain is not None
        else (uris.actor_uri(base, r.username), f"@{r.username}@{own}")
        for r in rows
    ]


async def _local_author(db: Database, account_id: int) -> str | None:
    async with db.read() as conn:
        row = (
            await conn.execute(
                select(accounts.c.username, accounts.c.domain).where(accounts.c.id == account_id)
            )
        ).first()
    return None if row is None or row.domain is not None else str(row.username)


async def local_note(db: Database, base: str, username: str, row: Any) -> dict[str, Any]:
    """A local post (a ``statuses`` row) as the Note other servers are sent,
    addressed as Mastodon addresses it: a direct post to the accounts it
    mentions only (no Public, no followers collection). The Create and every
    Update of the post carry this same Note."""
    status_id = int(row.id)
    actor = uris.actor_uri(base, username)
    followers = f"{actor}/followers"
    mentioned = await _mentioned_actors(db, base, status_id)
    named = [uri for uri, _ in mentioned]
    visibility = Visibility(row.visibility)
    to, cc = {
        Visibility.PUBLIC: ([PUBLIC], [followers, *named]),
        Visibility.UNLISTED: ([followers], [PUBLIC, *named]),
        Visibility.PRIVATE: ([followers], named),
        Visibility.DIRECT: (named, []),
    }[visibility]
    async with db.read() as conn:
        quote_fields = await quoted.note_fields(conn, base, status_id, visibility, actor)
    return {
        "id": uris.status_uri(base, username, status_id),
        "type": "Note",
        "attributedTo": actor,
        "content": row.content,
        "summary": row.spoiler_text or None,
        "sensitive": bool(row.sensitive),
        "published": _stamp(row.created_at),
        "url": f"{base}/@{username}/{status_id}",
        "inReplyTo": await _parent_uri(db, base, row.in_reply_to_id),
        "to": to,
        "cc": cc,
        "tag": [{"type": "Mention", "href": uri, "name": name} for uri, name in mentioned],
        "replies": post_links.replies_reference(uris.status_uri(base, username, status_id)),
        **quote_fields,
    }


async def publish(ctx: JobContext, status_id: int) -> None:
    """Send a local post to the inboxes ``destination_inboxes`` chooses."""
    # Where it goes first: most posts of a small server go nowhere else, and
    # then the post and its author need not be read at all.
    inboxes = await destination_inboxes(ctx.db, status_id)
    if not inboxes:
        return
    async with ctx.db.read() as conn:
        row = (await conn.execute(select(statuses).where(statuses.c.id == status_id))).first()
    if row is None or row.reblog_of_id is not None or row.uri is not None:
        return
    username = await _local_author(ctx.db, row.account_id)
    if username is None:
        return
    note = await local_note(ctx.db, ctx.settings.base_url, username, row)
    activity = {
        "@context": NOTE_CONTEXT,
        "id": f"{note['id']}/activity",
        "type": "Create",
        "actor": note["attributedTo"],
        "published": note["published"],
        "to": note["to"],
        "cc": note["cc"],
        "object": note,
    }
    async with ctx.db.write() as tx:
        for inbox in inboxes:
            await enqueue_delivery(tx, inbox, row.account_id, activity)
        await sent.record_sent(tx, status_id, inboxes)


async def _parent_uri(db: Database, base: str, parent_id: int | None) -> str | None:
    async with db.read() as conn:
        return await post_links.parent_uri(conn, base, parent_id)


async def withdraw(
    ctx: JobContext, status_id: int, author_id: int, visibility: int | None = None
) -> None:
    """Tell every server the post was sent to (``sent.sent_to``), and the
    author's followers' servers, that a local post is gone. A direct post's
    deletion goes only where the post went (the mentioned accounts' own
    inboxes): to anyone else its id would tell of it. Where it went is then
    forgotten."""
    direct = visibility is not None and Visibility(visibility) == Visibility.DIRECT
    username = await _local_author(ctx.db, author_id)
    if username is None:
        return
    went = set(await sent.sent_to(ctx.db, status_id))
    if direct:
        inboxes = sorted(went)
    else:
        inboxes = sorted(went | set(await follower_inboxes(ctx.db, author_id)))
    if not inboxes:
        return
    base = ctx.settings.base_url
    actor = uris.actor_uri(base, username)
    note_id = uris.status_uri(base, username, status_id)
    activity = {
        "@context": uris.AS_CONTEXT,
        "id": f"{note_id}#delete",
        "type": "Delete",
        "actor": actor,
        "to": [] if direct else [PUBLIC],
        "object": {"id": note_id, "type": "Tombstone"},
    }
    async with ctx.db.write() as tx:
        for inbox in inboxes:
            await enqueue_delivery(tx, inbox, author_id, activity)
        await sent.forget_sent(tx, status_id)


# --- Received ---------------------------------------------------------------------


def _addresses(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return {v for v in value if isinstance(v, str)}
    return set()


def visibility_of(note: dict[str, Any], followers_url: str | None) -> Visibility | None:
    to, cc = _addresses(note.get("to")), _addresses(note.get("cc"))
    if to & PUBLIC_ALIASES:
        return Visibility.PUBLIC
    if cc & PUBLIC_ALIASES:
        return Visibility.UNLISTED
    if followers_url is not None and followers_url in to | cc:
        return Visibility.PRIVATE
    return None


def _tags(note: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    tags = note.get("tag")
    return [
        t
        for t in (tags if isinstance(tags, list) else [tags])
        if isinstance(t, dict) and t.get("type") == kind
    ]


def hashtag_names(note: dict[str, Any]) -> list[str]:
    """The names of a note's ``Hashtag`` tags (``#name``), as written."""
    return [t["name"] for t in _tags(note, "Hashtag") if isinstance(t.get("name"), str)]


async def link_tags(tx: Tx, status_id: int, names: list[str]) -> None:
    """Link a received post to its hashtags through the one tag lookup local
    posts use (roost/domain/tags/lookup.py): the same keys, the same rows."""
    by_key = await tag_ids(tx, names)
    linked = dict.fromkeys(by_key[k] for k in map(tag_key, names) if k in by_key)
    if linked:
        await tx.execute(
            insert(status_tags), [{"status_id": status_id, "tag_id": tid} for tid in linked]
        )


async def _local_recipients(ctx: JobContext, note: dict[str, Any]) -> set[int]:
    """The local accounts a note names: its ``Mention`` tags and the local
    actors it is addressed to (``to``, ``cc``)."""
    named = _addresses(note.get("to")) | _addresses(note.get("cc"))
    for tag in _tags(note, "Mention"):
        named |= _addresses(tag.get("href"))
    prefix = f"{ctx.settings.base_url}/users/"
    usernames = {
        a[len(prefix) :].lower()
        for a in named
        if a.startswith(prefix) and "/" not in a[len(prefix) :]
    }
    if not usernames:
        return set()
    async with ctx.db.read() as conn:
        rows = await conn.execute(
            select(accounts.c.id).where(
                accounts.c.username_key.in_(sorted(usernames)), accounts.c.domain.is_(None)
            )
        )
        return {int(r.id) for r in rows}


# Mention tags of a note looked up among the accounts known here.
MAX_MENTIONS = 50
# Accounts of other servers a note names that are looked up when not known.
MAX_LOOKUPS = 10
WEB = ("http", "https")


async def _remote_mentions(ctx: JobContext, note: dict[str, Any]) -> tuple[set[int], list[str]]:
    """The accounts of other servers (the author's or a third one) a note's
    ``Mention`` tags name: those known here, and the actor ids of the others
    (at most ``MAX_LOOKUPS``), which a job looks up and links once the note
    is stored (roost/domain/federation/mention_lookup.py), never the inbox."""
    prefix = f"{ctx.settings.base_url}/"
    hrefs = sorted(
        {
            h
            for tag in _tags(note, "Mention")
            for h in _addresses(tag.get("href"))
            if not h.startswith(prefix) and len(h) <= 2048 and urlsplit(h).scheme in WEB
        }
    )[:MAX_MENTIONS]
    if not hrefs:
        return set(), []
    async with ctx.db.read() as conn:
        rows = (
            await conn.execute(
                select(accounts.c.id, accounts.c.uri).where(
                    accounts.c.uri.in_(hrefs), accounts.c.domain.is_not(None)
                )
            )
        ).all()
    found = {str(r.uri) for r in rows}
    return {int(r.id) for r in rows}, [h for h in hrefs if h not in found][:MAX_LOOKUPS]


async def _followed_here(ctx: JobContext, account_id: int) -> bool:
    async with ctx.db.read() as conn:
        found = (
            await conn.execute(
                select(follows.c.id).where(follows.c.target_account_id == account_id).limit(1)
            )
        ).first()
    return found is not None


async def _parent_of(conn: AsyncConnection, base: str, uri: Any) -> Any:
    """The post a note replies to, when it is here: a remote one by its id,
    a local one by its address (``BASE/users/NAME/statuses/ID``)."""
    if not isinstance(uri, str):
        return None
    query = select(statuses.c.id, statuses.c.account_id)
    local = re.fullmatch(re.escape(base) + r"/users/([A-Za-z0-9_]+)/statuses/([0-9]{1,20})", uri)
    if local is None:
        return (await conn.execute(query.where(statuses.c.uri == uri))).first()
    return (
        await conn.execute(
            query.join(accounts, accounts.c.id == statuses.c.account_id).where(
                statuses.c.id == int(local.group(2)),
                statuses.c.uri.is_(None),
                accounts.c.username_key == local.group(1).lower(),
                accounts.c.domain.is_(None),
            )
        )
    ).first()


async def post_of(conn: AsyncConnection, base: str, uri: Any) -> Any:
    """The post here that ``uri`` names (its ``id`` and ``account_id``): another
    server's by its id, a local one by its address; None when it is not here."""
    return await _parent_of(conn, base, uri)


def _published(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return utcnow()
        if moment.tzinfo is not None:
            return min(moment, utcnow())
    return utcnow()


def _missing_parent(base: str, note: dict[str, Any], parent: Any) -> str | None:
    """The id of the post a note replies to, when that post is another
    server's and not here (its ancestors are then fetched)."""
    uri = note.get("inReplyTo")
    if parent is not None or not isinstance(uri, str) or len(uri) > 2048:
        return None
    if urlsplit(uri).netloc.lower() == urlsplit(base).netloc.lower():
        return None  # a local address of no post: nothing to fetch
    return uri


async def receive_create(
    ctx: JobContext,
    remote_id: int,
    actor_uri: str,
    note: Any,
    *,
    wanted: bool = False,
    ancestors: int | None = None,
) -> bool:
    """Store a received (or, ``wanted``: fetched because an account followed
    here boosted it, someone here looked it up, or a post here replies to
    it) Note; False when it is not stored. A note replying to a post not
    here has that post fetched by a job (roost/domain/federation/threads.py),
    and ``ancestors`` (``ROOST_FEDERATION_THREAD_DEPTH`` unless given) posts
    above it at most."""
    if not isinstance(note, dict) or note.get("type") not in NOTE_TYPES:
        return False
    uri = note.get("id")
    if not isinstance(uri, str) or note.get("attributedTo") != actor_uri:
        return False
    if urlsplit(uri).netloc.lower() != urlsplit(actor_uri).netloc.lower():
        return False
    async with ctx.db.read() as conn:
        followers_url = (
            await conn.execute(
                select(remote_accounts.c.followers_url).where(
                    remote_accounts.c.account_id == remote_id
                )
            )
        ).scalar_one_or_none()
        parent = await _parent_of(conn, ctx.settings.base_url, note.get("inReplyTo"))
        quote_uri = quoted.quoted_uri(note)
        quoted_post = (
            None if quote_uri is None else await post_of(conn, ctx.settings.base_url, quote_uri)
        )
    mentioned = await _local_recipients(ctx, note)
    others, unknown = await _remote_mentions(ctx, note)
    if (
        not wanted
        and parent is None
        and quoted_post is None
        and not mentioned
        and not await _followed_here(ctx, remote_id)
    ):
        return False  # nobody here asked for it (Mastodon keeps such notes out too)
    visibility = visibility_of(note, followers_url)
    if visibility is None:
        if not mentioned:
            return False
        visibility = Visibility.DIRECT
    status_id = new_id()
    created = _published(note.get("published"))
    url = note.get("url") if isinstance(note.get("url"), str) else None
    async with ctx.db.write() as tx:
        if (
            await tx.execute(select(statuses.c.id).where(statuses.c.uri == uri))
        ).first() is not None:
            return True  # received before
        values = new_status_row(
            status_id=status_id,
            account_id=remote_id,
            visibility=visibility,
            created_at=created,
            html=clean_html(note.get("content")),
            spoiler_text=note["summary"][:500] if isinstance(note.get("summary"), str) else "",
            sensitive=bool(note.get("sensitive")),
            in_reply_to_id=None if parent is None else parent.id,
            in_reply_to_account_id=None if parent is None else parent.account_id,
        )
        await tx.execute(statuses.insert().values(**values, uri=uri, url=url))
        named = mentioned | others
        if named:
            await tx.execute(
                insert(mentions),
                [{"status_id": status_id, "account_id": aid} for aid in sorted(named)],
            )
        if unknown:
            await enqueue(tx, LinkMentions(status_id=status_id, hrefs=unknown))
        await link_tags(tx, status_id, hashtag_names(note))
        if quote_uri is not None:
            await quoted.record_received(
                tx,
                ctx.settings.base_url,
                status_id,
                remote_id,
                quote_uri,
                quoted_post,
                quoted.authorization_of(note),
            )
        await quoted.store_remote_policy(
            tx, status_id, quoted.remote_policy(note, actor_uri, followers_url)
        )
        await attached.store_media(tx, note, remote_id, status_id)
        poll = attached.question_poll(note, created)
        if poll is not None:
            await attached.store_poll(tx, remote_id, status_id, poll)
        if visibility == Visibility.DIRECT:
            await do_deliver_direct(
                tx,
                status_id=status_id,
                author_id=remote_id,
                in_reply_to_id=None if parent is None else parent.id,
                mentioned=sorted(named),
            )
        await tx.execute(
            update(accounts)
            .where(accounts.c.id == remote_id)
            .values(statuses_count=accounts.c.statuses_count + 1, last_status_at=created)
        )
        if parent is not None:
            await tx.execute(
                update(statuses)
                .where(statuses.c.id == parent.id)
                .values(replies_count=statuses.c.replies_count + 1)
            )
        await enqueue(tx, StatusPublished(status_id))
        missing = _missing_parent(ctx.settings.base_url, note, parent)
        depth = ctx.settings.federation_thread_depth if ancestors is None else ancestors
        if missing is not None and depth > 0:
            await enqueue(tx, FetchAncestors(status_id=status_id, parent_uri=missing, depth=depth))
        # Streams (home, public) hear of it as of a local post.
        tx.emit(
            StatusCreated(
                status_id=status_id,
                author_id=remote_id,
                in_reply_to_id=None if parent is None else parent.id,
                parent_known=True,
            )
        )
    return True


async def receive_delete(ctx: JobContext, remote_id: int, uri: str | None) -> bool:
    if uri is None:
        return False
    async with ctx.db.write() as tx:
        found = (
            await tx.execute(
                select(statuses.c.id).where(
                    statuses.c.uri == uri, statuses.c.account_id == remote_id
                )
            )
        ).first()
        if found is None:
            return True  # never had it, or deleted before: nothing to do
        try:
            await status_actions.do_delete_status(
                tx, Viewer(account_id=remote_id), int(found.id), delete_media=True
            )
        except NotFound:
            return True
    return True
