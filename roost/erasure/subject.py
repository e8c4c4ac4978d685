"""What an erasure is about, gathered before anything is deleted: the account,
its posts (and others' boosts of them), its files, and the fingerprints of its
content that the final scan must no longer find anywhere."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.tables import (
    accounts,
    favourites,
    follow_requests,
    follows,
    media_attachments,
    mentions,
    preview_cards,
    status_cards,
    status_conversations,
    status_edits,
    statuses,
    users,
)
from roost.errors import NotFound

# Shorter text is too likely to occur in someone else's words by chance.
MIN_FINGERPRINT = 12


@dataclass
class Subject:
    account_id: int
    username: str
    # Its own posts and boosts, and others' boosts of its posts: all deleted.
    status_ids: list[int]
    # Others' posts whose counters the erasure changes.
    touched_status_ids: list[int]
    # Accounts whose follower / following / post counts change.
    neighbour_ids: list[int]
    conversation_ids: list[int]
    media_keys: list[str]
    # Texts of the account (email, bio, posts, edits, alt texts) for the scan.
    fingerprints: list[str] = field(default_factory=list)
    # (status id, visibility, mentioned ids) of its posts, for the delete events.
    deleted_posts: list[tuple[int, int, int, tuple[int, ...]]] = field(default_factory=list)
    # An account of this server (its name is retired: roost/domain/accounts/retired.py).
    local: bool = True

    @property
    def ids(self) -> list[int]:
        return [self.account_id, *self.status_ids]


async def gather(conn: AsyncConnection, account_id: int) -> Subject:
    """Raises NotFound when there is no such account."""
    account = (await conn.execute(select(accounts).where(accounts.c.id == account_id))).first()
    if account is None:
        raise NotFound(f"no account with id {account_id}")
    own = (
        await conn.execute(
            select(
                statuses.c.id,
                statuses.c.account_id,
                statuses.c.visibility,
                statuses.c.text,
                statuses.c.spoiler_text,
                statuses.c.reblog_of_id,
                statuses.c.in_reply_to_id,
            ).where(statuses.c.account_id == account_id)
        )
    ).all()
    own_ids = [r.id for r in own]
    boosts_of_own = (
        await conn.execute(
            select(statuses.c.id, statuses.c.account_id, statuses.c.visibility).where(
                statuses.c.reblog_of_id.in_(own_ids)
            )
        )
    ).all()
    status_ids = own_ids + [r.id for r in boosts_of_own]
    mentioned: dict[int, list[int]] = {}
    for m in await conn.execute(
        select(mentions.c.status_id, mentions.c.account_id).where(mentions.c.status_id.in_(own_ids))
    ):
        mentioned.setdefault(m.status_id, []).append(m.account_id)
    touched = {r.reblog_of_id for r in own if r.reblog_of_id is not None}
    touched |= {r.in_reply_to_id for r in own if r.in_reply_to_id is not None}
    touched |= {
        r.status_id
        for r in await conn.execute(
            select(favourites.c.status_id).where(favourites.c.account_id == account_id)
        )
    }
    neighbours = {r.account_id for r in boosts_of_own}
    for table in (follows, follow_requests):
        for r in await conn.execute(
            select(table.c.account_id, table.c.target_account_id).where(
                or_(table.c.account_id == account_id, table.c.target_account_id == account_id)
            )
        ):
            neighbours |= {r.account_id, r.target_account_id}
    neighbours.discard(account_id)
    conversations = {
        r.conversation_id
        for r in await conn.execute(
            select(status_conversations.c.conversation_id).where(
                status_conversations.c.status_id.in_(own_ids)
            )
        )
    }
    media = (
        await conn.execute(
            select(
                media_attachments.c.file_key,
                media_attachments.c.preview_key,
                media_attachments.c.description,
            ).where(media_attachments.c.account_id == account_id)
        )
    ).all()
    keys = [m.file_key for m in media if m.file_key] + [
        m.preview_key for m in media if m.preview_key
    ]
    keys += [k for k in (account.avatar_file, account.header_file) if k]
    # The images of cards its posts show: discarded with the cards that only
    # its posts showed (roost/erasure/tables.py), kept while others' do.
    keys += [
        r.image_file
        for r in await conn.execute(
            select(preview_cards.c.image_file)
            .join(status_cards, status_cards.c.card_id == preview_cards.c.id)
            .where(status_cards.c.status_id.in_(own_ids), preview_cards.c.image_file.is_not(None))
            .distinct()
        )
    ]
    user = (
        await conn.execute(select(users.c.email).where(users.c.account_id == account_id))
    ).first()
    edits = await conn.execute(
        select(status_edits.c.text, status_edits.c.spoiler_text).where(
            status_edits.c.account_id == account_id
        )
    )
    texts = [user.email if user else "", account.note, account.display_name]
    texts += [t for r in own for t in (r.text, r.spoiler_text)]
    texts += [t for r in edits for t in (r.text, r.spoiler_text)]
    texts += [m.description or "" for m in media]
    subject = Subject(
        account_id=account_id,
        username=account.username,
        status_ids=status_ids,
        touched_status_ids=sorted(touched - set(status_ids)),
        neighbour_ids=sorted(neighbours),
        conversation_ids=sorted(conversations),
        media_keys=sorted(set(keys)),
        fingerprints=sorted({t.strip() for t in texts if len(t.strip()) >= MIN_FINGERPRINT}),
        local=account.domain is None,
    )
    subject.deleted_posts = [
        (r.id, r.account_id, r.visibility, tuple(mentioned.get(r.id, ()))) for r in own
    ] + [(r.id, r.account_id, r.visibility, ()) for r in boosts_of_own]
    return subject
