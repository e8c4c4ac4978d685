"""Reports across servers, both ways, as Mastodon federates them.

Out: a local report about an account of another server, filed with
``forward``, queues ``SendFlag`` (roost/domain/reports/actions.py). Its job
sends a Flag from the instance actor (``BASE/actor``; the reporter is not
named), signed with the instance actor's key, to the reported account's
server (its shared inbox, else the account's inbox): ``object`` the account's
id and the ids of the reported posts of that server, ``content`` the
reporter's comment. The queued activity is sealed under the reporter's key,
so that an erasure before it leaves takes the comment with it.

In: a Flag whose ``object`` names local accounts (and, optionally, their
posts) becomes one report per account named, filed as by the sender's actor
(an account of its server here; staff see the report as from that domain),
with the posts of that account it names and ``content`` as its comment;
staff are notified as of any report.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from roost.db.tables import accounts, report_statuses, reports, statuses
from roost.domain.federation import uris
from roost.domain.federation.delivery import enqueue_delivery
from roost.domain.federation.jobs import SendFlag
from roost.domain.federation.notes import post_of
from roost.domain.federation.remote import delivery_of
from roost.domain.federation.uris import AS_CONTEXT, id_of
from roost.domain.jobs import JobContext
from roost.domain.reports import actions as report_actions
from roost.jobs.registry import handles

log = logging.getLogger("roost.federation")

MAX_FLAG_OBJECTS = 100


@handles(SendFlag)
async def send_flag(ctx: JobContext, job: SendFlag) -> None:
    if not ctx.settings.federation:
        return
    async with ctx.db.read() as conn:
        report = (
            await conn.execute(
                select(
                    reports.c.account_id,
                    reports.c.target_account_id,
                    reports.c.comment,
                    accounts.c.uri,
                    accounts.c.domain,
                )
                .select_from(reports.join(accounts, accounts.c.id == reports.c.target_account_id))
                .where(reports.c.id == job.report_id)
            )
        ).first()
        if report is None or report.domain is None or not report.uri:
            return  # gone (erased), or about no account of another server
        posts = (
            await conn.execute(
                select(statuses.c.uri)
                .select_from(
                    report_statuses.join(statuses, statuses.c.id == report_statuses.c.status_id)
                )
                .where(report_statuses.c.report_id == job.report_id, statuses.c.uri.is_not(None))
                .order_by(statuses.c.id)
            )
        ).scalars()
        post_uris = [str(uri) for uri in posts]
    target = await delivery_of(ctx.db, int(report.target_account_id))
    if target is None:
        return
    actor = uris.instance_actor_uri(ctx.settings.base_url)
    activity: dict[str, Any] = {
        "@context": AS_CONTEXT,
        "id": f"{actor}#reports/{job.report_id}",
        "type": "Flag",
        "actor": actor,
        "content": str(report.comment or ""),
        "object": [str(report.uri), *post_uris],
    }
    async with ctx.db.write() as tx:
        await enqueue_delivery(
            tx,
            target.shared_inbox_url or target.inbox_url,
            int(report.account_id),
            activity,
            signed_by_instance=True,
        )


def named_in(activity: dict[str, Any]) -> list[str]:
    """The ids a Flag's ``object`` names (one or a list), a bounded few."""
    target = activity.get("object")
    items = target if isinstance(target, list) else [target]
    found = [uri for uri in (id_of(item) for item in items[:MAX_FLAG_OBJECTS]) if uri]
    return list(dict.fromkeys(found))


async def receive_flag(
    ctx: JobContext, remote_id: int, activity: dict[str, Any], local_accounts: list[int]
) -> bool:
    """File a report per local account the Flag names (``local_accounts``,
    resolved by the caller), with the named posts of each; False when it
    names no local account."""
    if not local_accounts:
        return False
    content = activity.get("content")
    comment = content.strip() if isinstance(content, str) else ""
    by_author: dict[int, list[int]] = {}
    async with ctx.db.read() as conn:
        for uri in named_in(activity):
            post = await post_of(conn, ctx.settings.base_url, uri)
            if post is not None:
                by_author.setdefault(int(post.account_id), []).append(int(post.id))
    async with ctx.db.write() as tx:
        for account_id in dict.fromkeys(local_accounts):
            await report_actions.do_receive_report(
                tx, remote_id, account_id, by_author.get(account_id, []), comment
            )
    log.info("report received from another server", extra={"accounts": len(local_accounts)})
    return True
