"""What a received Note carries besides its text: its media and its poll.

Media (``attachment``: ``Document``, ``Image``, ``Video``, ``Audio``, each
with ``url``, ``mediaType``, ``name`` as its description, ``blurhash``,
``width``/``height`` and ``focalPoint``) become the post's media rows with
the file's address on its server (``remote_url``); nothing is fetched on the
receive path (state ``remote``, no stored file), so the API gives that
address as the attachment's ``url`` and ``remote_url`` (Mastodon's entity
allows the remote address until the file is cached here). At most
``MAX_ATTACHMENTS``, in the order given; one that is not http(s) is left out.
An Update of the note (roost/domain/federation/edits.py) is read the same way
and compared with the post's media by their remote addresses
(``plan_media``): new ones are added and fetched as below, the kept ones take
the alt text, focal point and order given, and the others leave the post,
kept for its edit history.

Each is then fetched by a job (``cache_remote_media``, roost/domain/
federation/remote_media.py, which also keeps the cached files under their
budget) through the one outbound client (roost/net/http.py: its address guard, time limit, and the
media size limit of its kind), recognised by its bytes, checked against the
known-image lists (``origin="remote"``) and processed as an upload is
(re-encoded, without metadata), before anything is stored: only then is it
served from here (``url``, ``preview_url``), ``remote_url`` keeping the
original address. A file that matches a list is quarantined and its
attachment is no longer shown (state ``refused``); one that cannot be had
(refused address, error answer, too large, not a file this server takes)
stays shown by its remote address, as does one of a server whose media
staff reject (``reject_media``, for the author's server or the file's).

A poll is a ``Question``: its options are ``oneOf`` (single choice) or
``anyOf`` (multiple), each a ``Note`` with a ``name`` and a ``replies``
collection whose ``totalItems`` is its votes; ``endTime`` (or ``closed``) its
end, ``votersCount`` its voters (not known without it: shown as 0). It is
stored as the post's poll with the counts its server reports
(``remote_counts``, ``remote_voters``), which an Update of the Question
refreshes. A local vote in it is counted here at once (as Mastodon does)
and sent to its author (``send_poll_vote``): for each choice, a Create of a
Note whose ``name`` is the option, ``inReplyTo`` the Question, addressed to
the author alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, insert, select, update

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import (
    accounts,
    media_attachments,
    poll_votes,
    polls,
    statuses,
)
from roost.domain.federation import remote_media, uris
from roost.domain.federation.delivery import enqueue_delivery
from roost.domain.federation.jobs import CacheRemoteMedia, SendPollVote
from roost.domain.federation.remote import delivery_of
from roost.domain.jobs import JobContext
from roost.domain.media import queries as media_queries
from roost.domain.polls.jobs import PollEnded
from roost.domain.polls.queries import unsealed
from roost.ids import new_id
from roost.jobs.outbox import enqueue
from roost.jobs.registry import handles
from roost.keys.ring import is_sealed, seal, seal_optional, unseal

log = logging.getLogger("roost.federation")

MAX_ATTACHMENTS = 4
MAX_DESCRIPTION = 1500
MAX_OPTIONS = 20
MAX_OPTION_CHARS = 500
MEDIA_TYPES = {"Document", "Image", "Video", "Audio"}
# A poll with no end given stays open this long (Mastodon's limit for its own).
DEFAULT_POLL_LIFETIME = timedelta(days=30)


def _web_url(value: Any) -> str | None:
    """An http(s) address from ``url`` as servers write it: a string, a Link,
    or a list of either (the first usable one)."""
    if isinstance(value, list):
        for item in value:
            found = _web_url(item)
            if found is not None:
                return found
        return None
    if isinstance(value, dict):
        value = value.get("href")
    if not isinstance(value, str) or len(value) > 2048:
        return None
    parts = urlsplit(value)
    return value if parts.scheme in ("http", "https") and parts.netloc else None


def _dimension(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _kind(media_type: str) -> str:
    major = media_type.split("/", 1)[0]
    return {"image": "image", "video": "video", "audio": "audio"}.get(major, "unknown")


def _focus(value: Any) -> tuple[float, float] | None:
    if not (isinstance(value, list) and len(value) == 2):
        return None
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        return None
    x, y = float(value[0]), float(value[1])
    return (x, y) if -1.0 <= x <= 1.0 and -1.0 <= y <= 1.0 else None


def media_rows(note: dict[str, Any], account_id: int, status_id: int) -> list[dict[str, Any]]:
    """The media rows of a received note's attachments (see the module docstring)."""
    found = note.get("attachment")
    items = found if isinstance(found, list) else [found]
    rows: list[dict[str, Any]] = []
    now = utcnow()
    for item in items:
        if len(rows) == MAX_ATTACHMENTS:
            break
        if not isinstance(item, dict) or item.get("type") not in MEDIA_TYPES:
            continue
        url = _web_url(item.get("url"))
        if url is None:
            continue
        media_type = item.get("mediaType")
        media_type = media_type[:100] if isinstance(media_type, str) else ""
        width, height = _dimension(item.get("width")), _dimension(item.get("height"))
        meta: dict[str, Any] = {}
        if width is not None and height is not None:
            meta["original"] = {
                "width": width,
                "height": height,
                "size": f"{width}x{height}",
                "aspect": width / height,
            }
        name = item.get("name")
        blurhash = item.get("blurhash")
        focus = _focus(item.get("focalPoint"))
        rows.append(
            {
                "id": new_id(),
                "account_id": account_id,
                "status_id": status_id,
                "position": len(rows),
                "type": _kind(media_type),
                "state": "remote",
                "content_type": media_type,
                "file_key": "",
                "file_size": 0,
                "preview_key": None,
                "meta": meta,
                "description": seal_optional(
                    account_id, name[:MAX_DESCRIPTION] if isinstance(name, str) and name else None
                ),
                "blurhash": blurhash
                if isinstance(blurhash, str) and len(blurhash) <= 100
                else None,
                "focus_x": None if focus is None else focus[0],
                "focus_y": None if focus is None else focus[1],
                "expires_at": None,
                "created_at": now,
                "remote_url": url,
            }
        )
    return rows


async def store_media(tx: Tx, note: dict[str, Any], account_id: int, status_id: int) -> None:
    rows = media_rows(note, account_id, status_id)
    if rows:
        await tx.execute(insert(media_attachments), rows)
        for row in rows:
            await enqueue(tx, CacheRemoteMedia(row["id"]))


@dataclass(frozen=True)
class MediaPlan:
    """What an Update of a note changes in its post's media: rows to add
    (fetched by the job as on receipt), changes to the media it keeps (alt
    text, focal point, position), and the media it no longer holds."""

    added: list[dict[str, Any]]
    changed: dict[int, dict[str, Any]]
    retired: list[int]

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.retired)


def _plain(value: str | None) -> str | None:
    return unseal(value) if value is not None and is_sealed(value) else value


async def plan_media(tx: Tx, note: dict[str, Any], account_id: int, status_id: int) -> MediaPlan:
    """Compare an edited note's attachments (read as on receipt,
    ``media_rows``) with the media its post holds, matched by their remote
    address."""
    wanted = media_rows(note, account_id, status_id)
    held = (
        await tx.execute(
            select(
                media_attachments.c.id,
                media_attachments.c.remote_url,
                media_attachments.c.description,
                media_attachments.c.focus_x,
                media_attachments.c.focus_y,
                media_attachments.c.position,
            )
            .where(media_attachments.c.status_id == status_id)
            .order_by(media_attachments.c.position, media_attachments.c.id)
        )
    ).all()
    by_url: dict[str, list[Any]] = {}
    for row in held:
        by_url.setdefault(str(row.remote_url), []).append(row)
    added: list[dict[str, Any]] = []
    changed: dict[int, dict[str, Any]] = {}
    kept: set[int] = set()
    for new in wanted:
        same = by_url.get(new["remote_url"])
        if not same:
            added.append(new)
            continue
        found = same.pop(0)
        kept.add(int(found.id))
        values: dict[str, Any] = {}
        if _plain(found.description) != _plain(new["description"]):
            values["description"] = new["description"]
        if (found.focus_x, found.focus_y) != (new["focus_x"], new["focus_y"]):
            values.update(focus_x=new["focus_x"], focus_y=new["focus_y"])
        if found.position != new["position"]:
            values["position"] = new["position"]
        if values:
            changed[int(found.id)] = values
    retired = [int(r.id) for r in held if int(r.id) not in kept]
    return MediaPlan(added=added, changed=changed, retired=retired)


async def apply_media(tx: Tx, plan: MediaPlan, status_id: int) -> None:
    """Carry out ``plan``: new media stored and fetched by the job (screened
    as on receipt), the kept ones changed, and those the note no longer
    holds taken off the post but kept for its edit history, as a local
    edit keeps them (roost/domain/media/actions.py)."""
    if plan.retired:
        await tx.execute(
            update(media_attachments)
            .where(media_attachments.c.id.in_(plan.retired))
            .values(status_id=None, kept_for_status_id=status_id, expires_at=None)
        )
    for media_id, values in plan.changed.items():
        await tx.execute(
            update(media_attachments).where(media_attachments.c.id == media_id).values(**values)
        )
    if plan.added:
        await tx.execute(insert(media_attachments), plan.added)
        for row in plan.added:
            await enqueue(tx, CacheRemoteMedia(row["id"]))


@dataclass(frozen=True)
class RemotePoll:
    options: tuple[str, ...]
    counts: tuple[int, ...]
    multiple: bool
    expires_at: datetime
    voters: int | None


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def question_poll(note: dict[str, Any], published: datetime) -> RemotePoll | None:
    """The poll of a received ``Question`` (see the module docstring); None
    when it is not one, or has fewer than two named options."""
    if note.get("type") != "Question":
        return None
    multiple = isinstance(note.get("anyOf"), list)
    choices = note.get("anyOf") if multiple else note.get("oneOf")
    if not isinstance(choices, list):
        return None
    options: list[str] = []
    counts: list[int] = []
    for choice in choices[:MAX_OPTIONS]:
        if not isinstance(choice, dict) or not isinstance(choice.get("name"), str):
            continue
        replies = choice.get("replies")
        options.append(choice["name"][:MAX_OPTION_CHARS])
        counts.append(_count(replies.get("totalItems")) if isinstance(replies, dict) else 0)
    if len(options) < 2:
        return None
    ends = _moment(note.get("endTime")) or _moment(note.get("closed"))
    if ends is None:
        ends = published + DEFAULT_POLL_LIFETIME
    voters = note.get("votersCount")
    return RemotePoll(
        options=tuple(options),
        counts=tuple(counts),
        multiple=multiple,
        expires_at=ends,
        voters=_count(voters) if voters is not None else None,
    )


async def store_poll(tx: Tx, account_id: int, status_id: int, poll: RemotePoll) -> None:
    """A received post's poll, and its end as a job (its local voters are told)."""
    poll_id = new_id()
    await tx.execute(
        polls.insert().values(
            id=poll_id,
            status_id=status_id,
            account_id=account_id,
            options=[seal(account_id, option) for option in poll.options],
            multiple=poll.multiple,
            hide_totals=False,
            expires_at=poll.expires_at,
            created_at=utcnow(),
            remote_counts=list(poll.counts),
            remote_voters=poll.voters,
        )
    )
    await enqueue(tx, PollEnded(poll_id), run_at=max(poll.expires_at, utcnow()))


async def refresh_poll(tx: Tx, account_id: int, status_id: int, poll: RemotePoll | None) -> bool:
    """An Update of a received Question: its counts and end as its server now
    reports them; other options (or single/multiple choice) reset the votes
    cast here. Returns whether anything changed."""
    found = (await tx.execute(select(polls).where(polls.c.status_id == status_id))).first()
    if poll is None:
        return False
    if found is None:
        await store_poll(tx, account_id, status_id, poll)
        return True
    values: dict[str, Any] = {}
    if tuple(unsealed(found.options)) != poll.options or found.multiple != poll.multiple:
        await tx.execute(delete(poll_votes).where(poll_votes.c.poll_id == found.id))
        values.update(
            options=[seal(account_id, option) for option in poll.options], multiple=poll.multiple
        )
    if list(poll.counts) != found.remote_counts or poll.voters != found.remote_voters:
        values.update(remote_counts=list(poll.counts), remote_voters=poll.voters)
    if poll.expires_at != found.expires_at:
        values["expires_at"] = poll.expires_at
        await enqueue(tx, PollEnded(found.id), run_at=max(poll.expires_at, utcnow()))
    if values:
        await tx.execute(update(polls).where(polls.c.id == found.id).values(**values))
    return bool(values)


@handles(SendPollVote)
async def send_poll_vote(ctx: JobContext, job: SendPollVote) -> None:
    if not ctx.settings.federation:
        return
    async with ctx.db.read() as conn:
        found = (
            await conn.execute(
                select(
                    polls.c.options,
                    polls.c.account_id,
                    statuses.c.uri,
                    accounts.c.uri.label("author"),
                )
                .select_from(
                    polls.join(statuses, statuses.c.id == polls.c.status_id).join(
                        accounts, accounts.c.id == polls.c.account_id
                    )
                )
                .where(polls.c.id == job.poll_id)
            )
        ).first()
        voter = (
            await conn.execute(
                select(accounts.c.username, accounts.c.domain).where(
                    accounts.c.id == job.account_id
                )
            )
        ).first()
    if found is None or found.uri is None or found.author is None:
        return
    if voter is None or voter.domain is not None:
        return
    target = await delivery_of(ctx.db, int(found.account_id))
    if target is None:
        return
    options = unsealed(found.options)
    actor = uris.actor_uri(ctx.settings.base_url, voter.username)
    async with ctx.db.write() as tx:
        for choice in job.choices:
            if not 0 <= choice < len(options):
                continue
            vote_id = f"{actor}#votes/{job.poll_id}/{choice}"
            activity = {
                "@context": uris.AS_CONTEXT,
                "id": f"{vote_id}/activity",
                "type": "Create",
                "actor": actor,
                "to": [str(found.author)],
                "object": {
                    "id": vote_id,
                    "type": "Note",
                    "name": options[choice],
                    "attributedTo": actor,
                    "to": [str(found.author)],
                    "inReplyTo": str(found.uri),
                },
            }
            await enqueue_delivery(tx, target.inbox_url, job.account_id, activity)


@handles(CacheRemoteMedia)
async def cache_remote_media(ctx: JobContext, job: CacheRemoteMedia) -> None:
    """Fetch a received post's attachment (roost/domain/federation/remote_media.py)."""
    async with ctx.db.read() as conn:
        media = await media_queries.attachment(conn, job.media_id)
    if media is None or media.state != "remote" or media.remote_url is None:
        return
    await remote_media.fetch_file(ctx.db, ctx.settings, ctx.media, media)
