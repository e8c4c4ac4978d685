"""Quote posts: quoting (checked against the quoted post's policy), the policy
itself, revoking a quote, and telling quoters of an edit.

Quotes are accepted at once when the policy allows them (Mastodon 4.5 has
no manual review for its own policies), refused (403) when it does not, and
never possible for a post the quoter may not see (404, as any hidden post).
A quote of another server's post whose server gave no policy waits for its
author's answer (``pending``, roost/domain/federation/quote_requests.py).
Revoking a quote made on another server tells that server (a ``Delete`` of
the authorization).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import quote_policies, quotes
from roost.domain import privacy
from roost.domain.federation.jobs import SendQuoteRevoked
from roost.domain.notifications.actions import do_notify
from roost.domain.notifications.jobs import Notify
from roost.domain.quotes.jobs import QuotedEdited
from roost.domain.quotes.queries import follows_any, stored_policy
from roost.domain.quotes.rules import DEFAULT_POLICY, POLICIES, current_user, effective_policy
from roost.domain.types import Viewer, Visibility
from roost.errors import Forbidden, NotFound, RuleBroken
from roost.ids import new_id
from roost.jobs.outbox import enqueue


@dataclass(frozen=True)
class QuotePlan:
    """A quote about to be made: whom it quotes, and the visibility the
    quoting post takes (a followers-only post is quoted followers-only at most)."""

    quoted_status_id: int
    quoted_account_id: int
    visibility: Visibility
    # ``pending`` for a public or unlisted quote of another server's post
    # whose policy, as its server gave it, is not known: its author is asked
    # (roost/domain/federation/quote_requests.py).
    state: str = "accepted"


def check_policy(policy: str) -> str:
    if policy not in POLICIES:
        raise RuleBroken("quote_approval_policy must be one of " + ", ".join(POLICIES))
    return policy


async def check_quote(
    tx: Tx, author: Viewer, quoted_status_id: int, visibility: Visibility
) -> QuotePlan:
    """What quoting ``quoted_status_id`` takes; NotFound for a post the author
    may not see, Invalid for a boost, Forbidden when its policy refuses them."""
    row = (await privacy.check_status(tx.conn, author, quoted_status_id)).value
    if row["reblog_of_id"] is not None:
        raise RuleBroken("A boost cannot be quoted; quote the post itself")
    quoted_visibility = Visibility(row["visibility"])
    stored = await stored_policy(tx.conn, quoted_status_id)
    policy = effective_policy(quoted_visibility, stored)
    quoted_author = int(row["account_id"])
    follows = (
        policy == "followers"
        and author.account_id is not None
        and bool(await follows_any(tx.conn, author.account_id, {quoted_author}))
    )
    allowed = current_user(
        policy,
        quoted_visibility,
        viewer_id=author.account_id,
        author_id=quoted_author,
        follows_author=follows,
    )
    if allowed != "automatic":
        raise Forbidden("This action is not allowed")
    if quoted_visibility == Visibility.PRIVATE and visibility in (
        Visibility.PUBLIC,
        Visibility.UNLISTED,
    ):
        visibility = Visibility.PRIVATE
    # Another server's post whose server said nothing of who may quote it
    # without asking: its author answers (Accept or Reject).
    asked = row["uri"] is not None and stored is None and visibility.listed
    return QuotePlan(
        quoted_status_id=quoted_status_id,
        quoted_account_id=quoted_author,
        visibility=visibility,
        state="pending" if asked else "accepted",
    )


async def do_record_quote(tx: Tx, plan: QuotePlan, status_id: int, author_id: int) -> None:
    await tx.execute(
        quotes.insert().values(
            id=new_id(),
            status_id=status_id,
            account_id=author_id,
            quoted_status_id=plan.quoted_status_id,
            quoted_account_id=plan.quoted_account_id,
            state=plan.state,
            created_at=utcnow(),
        )
    )
    if plan.quoted_account_id != author_id:
        await enqueue(
            tx,
            Notify(
                type="quote",
                account_id=plan.quoted_account_id,
                from_account_id=author_id,
                status_id=status_id,
            ),
        )


async def do_set_policy(tx: Tx, status_id: int, policy: str) -> None:
    """Store a post's quote policy (only what differs from the default)."""
    check_policy(policy)
    await tx.execute(delete(quote_policies).where(quote_policies.c.status_id == status_id))
    if policy != DEFAULT_POLICY:
        await tx.execute(quote_policies.insert().values(status_id=status_id, policy=policy))


async def do_change_policy(tx: Tx, viewer: Viewer, status_id: int, policy: str) -> None:
    """PUT /api/v1/statuses/:id/interaction_policy: the author's own posts
    only (403 for another's post the viewer sees, 404 for one they do not)."""
    row = (await privacy.check_status(tx.conn, viewer, status_id)).value
    if row["account_id"] != viewer.account_id or row["reblog_of_id"] is not None:
        raise Forbidden("This action is not allowed")
    await do_set_policy(tx, status_id, policy)


async def do_revoke(tx: Tx, viewer: Viewer, quoted_status_id: int, quoting_status_id: int) -> None:
    """The quoted post's author withdraws a quote of it: the quoting post
    stays, showing the quote as revoked to everyone."""
    quoted = (await privacy.check_status(tx.conn, viewer, quoted_status_id)).value
    if quoted["account_id"] != viewer.account_id:
        raise Forbidden("This action is not allowed")
    quoting = (await privacy.check_status(tx.conn, viewer, quoting_status_id)).value
    quote = (
        await tx.execute(
            select(quotes.c.id, quotes.c.state).where(
                quotes.c.status_id == quoting_status_id,
                quotes.c.quoted_status_id == quoted_status_id,
            )
        )
    ).first()
    if quote is None:
        raise NotFound()
    await tx.execute(update(quotes).where(quotes.c.id == quote.id).values(state="revoked"))
    if quoting["uri"] is not None and quoted["uri"] is None and quote.state == "accepted":
        # Its server holds the authorization given: it is withdrawn there.
        await enqueue(tx, SendQuoteRevoked(quote_id=int(quote.id)))


async def do_after_edit(tx: Tx, status_id: int, editor_id: int, edited_at: datetime) -> None:
    """An edited post that others quote leaves the job that tells them."""
    quoted = await tx.execute(
        select(quotes.c.id)
        .where(quotes.c.quoted_status_id == status_id, quotes.c.state == "accepted")
        .limit(1)
    )
    if quoted.first() is not None:
        await enqueue(tx, QuotedEdited(status_id, editor_id, edited_at.isoformat()))


async def do_tell_quoters(tx: Tx, status_id: int, editor_id: int, edited_at: str) -> int:
    """A ``quoted_update`` notification to each author quoting the post (about
    their quoting post), once per edit."""
    rows = await tx.execute(
        select(quotes.c.status_id, quotes.c.account_id).where(
            quotes.c.quoted_status_id == status_id, quotes.c.state == "accepted"
        )
    )
    told = 0
    for row in rows.all():
        quoting_id, quoter = int(row.status_id), int(row.account_id)
        told += await do_notify(
            tx,
            type="quoted_update",
            account_id=quoter,
            from_account_id=editor_id,
            status_id=quoting_id,
            event_key=f"quoted_update:{quoting_id}:{edited_at}",
        )
    return told
