"""Each table's erasure policy (roost/erasure/registry.py explains the terms).

A new table adds its line here; tests/erasure/test_registry.py fails until it
does. Instance-wide tables (applications, tags, custom emoji, announcements)
hold nothing of any one account and are kept.

Above 500 lines: one declaration per table of the schema, in one place, so
that a reviewer sees every table's fate side by side.
"""

from __future__ import annotations

from sqlalchemy import Text, cast, delete, func, or_, select, update

from roost.db.engine import Tx
from roost.db.tables import (
    conversation_participants,
    favourites,
    jobs,
    preview_cards,
    quotes,
    status_cards,
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


async def _forget_quoted(tx: Tx, subject: Subject) -> int:
    """Others' quotes of its posts no longer name them (they show as deleted)."""
    result = await tx.execute(
        update(quotes)
        .where(
            or_(
                quotes.c.quoted_account_id == subject.account_id,
                quotes.c.quoted_status_id.in_(subject.status_ids),
            )
        )
        .values(quoted_status_id=None, quoted_account_id=None)
    )
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
declare("polls", D, accounts=OWN, statuses=("status_id",), reason="its posts' polls")
declare(
    "poll_votes",
    D,
    accounts=OWN,
    cascade_from="polls",
    reason="its votes, and the votes in its polls (counts are read from the votes)",
)
declare("scheduled_statuses", D, accounts=OWN, reason="its posts waiting for their time")
declare(
    "quotes",
    D,
    accounts=OWN,
    statuses=("status_id",),
    extra=_forget_quoted,
    reason="its quotes; others' quotes of its posts stay, showing them deleted",
)
declare("quote_policies", D, statuses=("status_id",), reason="its posts' quote policies")
declare("lists", D, accounts=OWN, reason="its lists")
declare("list_accounts", D, accounts=OWN, reason="its place in others' lists")
declare("collections", D, accounts=OWN, reason="its collections, with their items")
declare("collection_items", D, accounts=OWN, reason="its place in others' collections")
declare(
    "account_aliases",
    D,
    accounts=("account_id", "target_account_id"),
    reason="its aliases, and its place in others' aliases",
)
declare(
    "account_moves",
    D,
    accounts=("account_id", "target_account_id"),
    reason="its move, and others' moves to it",
)
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
declare("web_sessions", D, accounts=OWN, reason="its signed-in browsers")
declare("email_tokens", D, accounts=OWN, reason="its confirmation and reset links")
declare("two_factor", D, accounts=OWN, reason="its two-factor secret")
declare("recovery_codes", D, accounts=OWN, reason="its two-factor recovery codes")
declare(
    "invites",
    A,
    accounts=("created_by",),
    set_values={"created_by": None},
    reason="invite links it made keep working, no longer naming it",
)
declare("instance_rules", K, reason="instance-wide rules written by the operator")
declare("warning_presets", K, reason="instance-wide warning texts written by staff")
declare("notification_policies", D, accounts=OWN, reason="its notification policy")
declare(
    "notification_requests",
    D,
    accounts=("account_id", "from_account_id"),
    reason="notification requests to it and from it",
)
declare(
    "notification_permissions",
    D,
    accounts=("account_id", "from_account_id"),
    reason="senders it let through, and its leave to notify others",
)
declare("push_subscriptions", D, accounts=OWN, reason="its Web Push subscriptions")


async def _drop_unlinked_cards(tx: Tx, subject: Subject) -> int:
    """Link cards no post shows any more (those its posts alone linked: the
    address, part of its words, goes with them). Cards others' posts still
    show stay: they describe others' links."""
    if not subject.status_ids:
        return 0
    shown = select(status_cards.c.card_id)
    result = await tx.execute(delete(preview_cards).where(preview_cards.c.id.not_in(shown)))
    return int(result.rowcount or 0)


declare(
    "preview_cards",
    D,
    extra=_drop_unlinked_cards,
    reason="cards only its posts showed; those others' posts show stay",
)
declare("status_cards", D, statuses=("status_id",), reason="which card its posts show")
declare(
    "trend_reviews",
    A,
    accounts=("decided_by",),
    set_values={"decided_by": None},
    reason="decisions it made as staff stay, naming nobody; those on its posts go "
    "with the posts (cascade)",
)
declare("featured_tags", D, accounts=OWN, reason="hashtags it features on its profile")
declare("featured_accounts", D, accounts=OWN, reason="staff's suggestion of it to everyone")
declare("suggestion_dismissals", D, accounts=PAIR, reason="suggestions dismissed, both ways")
declare("account_domain_blocks", D, accounts=OWN, reason="domains it hides")


async def _erase_audit_personal(tx: Tx, subject: Subject) -> int:
    from roost.domain.audit.chain import erase_personal

    return await erase_personal(tx, subject.account_id)


declare("roles", K, reason="instance-wide staff roles")
declare("account_roles", D, accounts=OWN, reason="the role it held")
declare(
    "audit_entries",
    K,
    reason="the hashed entries hold no personal data, only a salted digest of it",
)
declare(
    "audit_personal",
    A,
    accounts=("actor_account_id", "target_account_id"),
    set_values={"data": "{}", "salt": None},
    extra=_erase_audit_personal,
    reason="who acted on whom is blanked; the entry's digest keeps the chain whole",
)


async def _unlink_staff_from_reports(tx: Tx, subject: Subject) -> int:
    """Reports others made stay; a staff member's name on them goes."""
    from roost.db.tables import reports

    changed = 0
    for column in ("assigned_account_id", "action_taken_by_account_id"):
        result = await tx.execute(
            update(reports).where(reports.c[column] == subject.account_id).values({column: None})
        )
        changed += int(result.rowcount or 0)
    return changed


declare(
    "reports",
    D,
    accounts=PAIR,
    extra=_unlink_staff_from_reports,
    reason="reports it made and reports about it; as staff, its name on others' goes",
)
declare("report_rules", D, cascade_from="reports", reason="the rules its reports cited")
declare(
    "report_statuses",
    D,
    accounts=OWN,
    statuses=("status_id",),
    reason="snapshots of its posts in reports",
)
declare("upload_quotas", D, accounts=OWN, reason="the bytes it uploaded each day")
declare(
    "moderation_exposures",
    D,
    accounts=OWN,
    reason="as a moderator, how much reported content it looked at each day",
)
declare(
    "moderation_views",
    D,
    accounts=OWN,
    cascade_from="reports",
    reason="as a moderator, which reports it opened each day",
)
declare("email_domain_blocks", K, reason="e-mail domains the operator refuses at sign-up")
declare("instance_domain_blocks", K, reason="servers staff refuse or limit")
declare("instance_domain_allows", K, reason="servers staff let in")
declare("ip_blocks", K, reason="address ranges staff hold back or refuse")
declare(
    "canonical_email_blocks",
    K,
    reason="hashes of refused addresses; kept so that an erased account cannot sign up again",
)


async def _unlink_staff_from_lawful(tx: Tx, subject: Subject) -> int:
    """As staff, its name on lawful requests and approvals goes; the decisions stay."""
    from roost.db.tables import lawful_approvals, lawful_requests

    changed = 0
    for table, columns in (
        (
            lawful_requests,
            ("verified_by_account_id", "requested_by_account_id", "decided_by_account_id"),
        ),
        (lawful_approvals, ("approver_account_id", "requester_account_id")),
    ):
        for column in columns:
            result = await tx.execute(
                update(table).where(table.c[column] == subject.account_id).values({column: None})
            )
            changed += int(result.rowcount or 0)
    return changed


declare(
    "lawful_requests",
    A,
    accounts=("account_id",),
    set_values={"account_id": None},
    extra=_unlink_staff_from_lawful,
    reason="a request about it stays, naming nobody: that it was made, by which authority "
    "on which basis, and what was decided and disclosed is the instance's record; its "
    "free text was sealed under its key and is unreadable once the key is gone",
)
declare(
    "lawful_approvals",
    A,
    accounts=("approver_account_id",),
    set_values={"approver_account_id": None},
    reason="approvals it gave as staff stay, naming nobody (its name as requester goes "
    "with lawful_requests' extra)",
)


async def _unlink_staff_from_strikes(tx: Tx, subject: Subject) -> int:
    """Strikes and appeals of others stay; a staff member's name on them goes."""
    from roost.db.tables import account_warnings, appeals

    changed = 0
    for table, column in (
        (account_warnings, "by_account_id"),
        (appeals, "decided_by_account_id"),
    ):
        result = await tx.execute(
            update(table).where(table.c[column] == subject.account_id).values({column: None})
        )
        changed += int(result.rowcount or 0)
    return changed


declare(
    "account_warnings",
    D,
    accounts=OWN,
    extra=_unlink_staff_from_strikes,
    reason="strikes against it (their text sealed under its key); as staff, its name on "
    "others' goes",
)
declare("appeals", D, accounts=OWN, reason="its appeals against strikes")
declare("known_image_lists", K, reason="hash lists the operator imports; nobody's data")
declare("known_image_hashes", K, reason="hashes of known images; nobody's data")
declare(
    "quarantined_media",
    A,
    accounts=("account_id",),
    set_values={"account_id": None},
    reason="a file refused as a known image stays, sealed under the quarantine key, as "
    "evidence a provider may be bound to preserve; the account id goes (its automatic "
    "report goes with its reports)",
)
# Spam waves (roost/domain/spam).
declare(
    "sign_up_networks",
    D,
    accounts=("account_id",),
    reason="the network it signed up from",
)
declare(
    "spam_signatures",
    D,
    accounts=OWN,
    statuses=("status_id",),
    reason="its posts' MinHash signatures",
)
declare("spam_bands", D, statuses=("status_id",), reason="its posts' LSH band keys")
declare(
    "spam_cluster_posts",
    D,
    accounts=OWN,
    statuses=("status_id",),
    reason="its posts' places in spam clusters",
)
declare("spam_holds", D, accounts=OWN, statuses=("status_id",), reason="its held posts")
declare(
    "spam_clusters",
    A,
    accounts=("decided_by_account_id",),
    set_values={"decided_by_account_id": None},
    reason="a cluster holds no post or account of its own (its members go with "
    "spam_cluster_posts); a decision it made as staff stays, naming nobody",
)
declare(
    "actor_keys",
    D,
    accounts=OWN,
    reason="its federation key pair (the private half was sealed under its key)",
)
declare(
    "remote_actor_keys",
    K,
    reason="other servers' public keys: they belong to no local account",
)
declare(
    "inbox_activities",
    D,
    accounts=("recipient_account_id",),
    reason="activities other servers sent to its inbox",
)
declare(
    "remote_accounts",
    D,
    accounts=OWN,
    reason="where an account of another server takes deliveries (goes with its accounts row)",
)
declare(
    "annual_reports",
    D,
    accounts=OWN,
    reason="its yearly summaries (its counts, hashtags and posts)",
)
declare(
    "account_deliveries",
    D,
    accounts=OWN,
    reason="the inboxes anything of it was delivered to (read before, for the Delete of "
    "its actor: roost/domain/federation/farewell.py)",
)
declare(
    "retired_usernames",
    K,
    reason="a SHA-256 digest of an erased local account's username, never the name: it "
    "keeps the name from being given to anyone else (other servers know the account by "
    "it) and makes its address answer 410",
)
declare(
    "federation_hosts",
    K,
    reason="each other server's delivery state (failures, backoff, last success): it "
    "names a host, never an account, and holds nothing any account sent",
)
declare(
    "status_replies_fetches",
    D,
    statuses=("status_id",),
    reason="when the replies of its posts were last asked of their server (only other "
    "servers' posts have one)",
)
declare(
    "status_deliveries",
    D,
    statuses=("status_id",),
    reason="where its posts were sent (read before, for the Delete of its actor: "
    "roost/domain/federation/farewell.py)",
)


async def _drop_received(tx: Tx, subject: Subject) -> int:
    """Activities other servers sent that name the account, whichever inbox
    they came to (a shared inbox's have no recipient): their raw bodies quote
    its actor and posts. Their links go with them (cascade), and any left."""
    from roost.db.tables import inbox_activities, inbox_activity_accounts

    links = inbox_activity_accounts.c.account_id == subject.account_id
    named = select(inbox_activity_accounts.c.inbox_activity_id).where(links)
    result = await tx.execute(delete(inbox_activities).where(inbox_activities.c.id.in_(named)))
    await tx.execute(delete(inbox_activity_accounts).where(links))
    return int(result.rowcount or 0)


declare(
    "inbox_activity_accounts",
    D,
    extra=_drop_received,
    reason="which received activities name it; they go, with the activities",
)
declare(
    "actor_farewells",
    K,
    reason="no account's row: the Delete of an erased actor still being sent holds its "
    "actor id and signing key sealed under a key of its own, destroyed when the "
    "deliveries end or after a week (roost/domain/federation/farewell.py)",
)
