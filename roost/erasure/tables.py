"""Each table's erasure policy (roost/erasure/registry.py explains the terms).

A new table adds its line here; tests/erasure/test_registry.py fails until it
does. Instance-wide tables (applications, tags, custom emoji, announcements)
hold nothing of any one account and are kept.
"""

from __future__ import annotations

from sqlalchemy import Text, cast, delete, func, or_, select, update

from roost.db.engine import Tx
from roost.db.tables import (
    conversation_participants,
    favourites,
    jobs,
    status_conversations,
    statuses,
)
from roost.erasure.registry import Policy, declare
from roost.erasure.subject import Subject

D, A, K = Policy.DELETE, Policy.ANONYMISE, Policy.KEEP
OWN = ("account_id",)
PAIR = ("account_id", "target_account_id")


async def _unlink_replies(tx: Tx, subject: Subject) -> int:
    """Others' replies stay, but no longer point at the erased posts or account:
    their parent is gone, and its ids must not linger either."""
    first = await tx.execute(
        update(statuses)
        .where(statuses.c.in_reply_to_id.in_(subject.status_ids))
        .values(in_reply_to_id=None, in_reply_to_account_id=None)
    )
    second = await tx.execute(
        update(statuses)
        .where(statuses.c.in_reply_to_account_id == subject.account_id)
        .values(in_reply_to_account_id=None)
    )
    return int(first.rowcount or 0) + int(second.rowcount or 0)


async def _settle_conversations(tx: Tx, subject: Subject) -> int:
    """Other participants of a conversation the account wrote in keep it, now
    ending at its newest remaining post; one left with no post goes."""
    changed = 0
    for conversation_id in subject.conversation_ids:
        newest = (
            await tx.execute(
                select(func.max(status_conversations.c.status_id)).where(
                    status_conversations.c.conversation_id == conversation_id
                )
            )
        ).scalar_one()
        rows = conversation_participants.c.conversation_id == conversation_id
        if newest is None:
            result = await tx.execute(delete(conversation_participants).where(rows))
        else:
            result = await tx.execute(
                update(conversation_participants)
                .where(rows, conversation_participants.c.last_status_id > newest)
                .values(last_status_id=newest)
            )
        changed += int(result.rowcount or 0)
    return changed


async def _drop_jobs(tx: Tx, subject: Subject) -> int:
    """Queued or parked jobs that name the account or its posts: their work is
    moot, and their payloads would keep the ids."""
    payload = cast(jobs.c.payload, Text)
    matches = or_(*(payload.contains(str(i)) for i in subject.ids))
    result = await tx.execute(delete(jobs).where(matches))
    return int(result.rowcount or 0)


async def _recount_posts(tx: Tx, subject: Subject) -> int:
    """Counters of others' posts the account favourited, boosted or answered."""
    if not subject.touched_status_ids:
        return 0
    other = statuses.alias("other")
    fav = select(func.count()).where(favourites.c.status_id == statuses.c.id).scalar_subquery()
    boosts = select(func.count()).where(other.c.reblog_of_id == statuses.c.id).scalar_subquery()
    replies = select(func.count()).where(other.c.in_reply_to_id == statuses.c.id).scalar_subquery()
    result = await tx.execute(
        update(statuses)
        .where(statuses.c.id.in_(subject.touched_status_ids))
        .values(favourites_count=fav, reblogs_count=boosts, replies_count=replies)
    )
    return int(result.rowcount or 0)


declare("accounts", D, accounts=("id",), reason="the account itself")
declare("users", D, accounts=OWN, reason="sign-in, email and preferences")
declare("oauth_tokens", D, accounts=OWN, reason="its access tokens")
declare("authorization_codes", D, accounts=OWN, reason="its pending OAuth codes")
declare("applications", K, reason="client apps are registered by software, not by an account")
declare(
    "statuses",
    D,
    accounts=OWN,
    statuses=("id", "reblog_of_id"),
    extra=_unlink_replies,
    reason="its posts and boosts, and others' boosts of its posts",
)
declare("status_edits", D, accounts=OWN, statuses=("status_id",), reason="edit history")
declare("mentions", D, accounts=OWN, statuses=("status_id",), reason="mentions of and by it")
declare("tags", K, reason="hashtags are shared words; the links to its posts go")
declare("status_tags", D, statuses=("status_id",), reason="its posts' hashtags")
declare(
    "favourites",
    D,
    accounts=OWN,
    statuses=("status_id",),
    extra=_recount_posts,
    reason="its favourites, and others' favourites of its posts",
)
declare("bookmarks", D, accounts=OWN, statuses=("status_id",), reason="its and others' bookmarks")
declare("pins", D, accounts=OWN, statuses=("status_id",), reason="pinned posts")
declare("follows", D, accounts=PAIR, reason="follows both ways (counts recounted)")
declare("follow_requests", D, accounts=PAIR, reason="follow requests both ways")
declare(
    "notifications",
    D,
    accounts=("account_id", "from_account_id"),
    statuses=("status_id",),
    reason="notifications to it, from it, and about its posts",
)
declare("idempotency_keys", D, accounts=OWN, statuses=("status_id",), reason="retry keys")
declare("jobs", D, extra=_drop_jobs, reason="jobs whose payload names the account or its posts")
declare("blocks", D, accounts=PAIR, reason="blocks both ways")
declare("mutes", D, accounts=PAIR, reason="mutes both ways")
declare("account_notes", D, accounts=PAIR, reason="private notes by and about it")
declare("endorsements", D, accounts=PAIR, reason="featured accounts both ways")
declare(
    "conversation_mutes",
    D,
    accounts=OWN,
    statuses=("thread_root_id",),
    reason="muted threads, and others' mutes of threads it started",
)
declare(
    "status_conversations", D, statuses=("status_id",), reason="its direct posts' conversations"
)
declare(
    "conversation_participants",
    D,
    accounts=OWN,
    extra=_settle_conversations,
    reason="its conversations; others' end at their newest remaining post",
)
declare(
    "media_attachments",
    D,
    accounts=OWN,
    reason="its uploads (files removed by the media purge)",
)
declare("lists", D, accounts=OWN, reason="its lists")
declare("list_accounts", D, accounts=OWN, reason="its place in others' lists")
declare("followed_tags", D, accounts=OWN, reason="hashtags it follows")
declare("filters", D, accounts=OWN, reason="its filters")
declare("filter_keywords", D, cascade_from="filters", reason="its filters' keywords")
declare("filter_statuses", D, statuses=("status_id",), reason="filters naming its posts")
declare("markers", D, accounts=OWN, reason="its read positions")
declare("custom_emojis", K, reason="instance-wide emoji")
declare("announcements", K, reason="instance-wide announcements by staff")
declare("announcement_dismissals", D, accounts=OWN, reason="its dismissals")
declare("announcement_reactions", D, accounts=OWN, reason="its reactions")
declare("twitter_imports", D, accounts=OWN, reason="its imports")
declare(
    "twitter_imported_tweets",
    D,
    accounts=OWN,
    statuses=("status_id",),
    reason="what its imports made",
)
declare("twitter_likes", D, accounts=OWN, reason="its imported likes")
declare("twitter_relations", D, accounts=OWN, reason="its imported follows and blocks")
declare("twitter_direct_messages", D, accounts=OWN, reason="its imported direct messages")
