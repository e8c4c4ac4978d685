"""Accounts of other servers named in a received post, looked up after it is
stored.

A received Note's ``Mention`` tags may name accounts not known here, often of
a third server (a note from B naming ``@carol@C``). The inbox does not wait
on other servers: the post is stored with the mentions it can link, and a
job (``LinkMentions``, queued in the transaction that stored or edited the
post, so it is not lost) fetches each unknown actor by its id
(roost/domain/federation/remote.py: the one outbound client, its limits,
the domain policy), stores it, and links it to the post as a mention, as
Mastodon's mention resolution does. A server that does not answer is asked
again later, ``LOOKUP_TRIES`` times at most; an actor that cannot be had
stays unlinked (the post's text still names it).
"""

from __future__ import annotations

import logging
from dataclasses import replace

from sqlalchemy import insert, select

from roost.db.tables import accounts, mentions, statuses
from roost.domain.events import StatusRewritten
from roost.domain.federation import hosts
from roost.domain.federation.delivery import places
from roost.domain.federation.jobs import LinkMentions, asked_again_at
from roost.domain.federation.remote import RemoteRefused, account_for_uri
from roost.domain.jobs import JobContext
from roost.jobs.outbox import enqueue
from roost.jobs.registry import handles

log = logging.getLogger("roost.federation")

# How often lookups whose server did not answer are tried again (3, 6 and
# 12 s later) before they are given up.
LOOKUP_TRIES = 3


@handles(LinkMentions)
async def link_mentions(ctx: JobContext, job: LinkMentions) -> None:
    if not ctx.settings.federation:
        return
    found: list[int] = []
    again: list[str] = []
    for href in job.hrefs:
        if not await _post_here(ctx, job.status_id):
            return  # deleted meanwhile
        try:
            async with places.place(hosts.host_of(href)):
                found.append(await account_for_uri(ctx.db, ctx.settings, href))
        except RemoteRefused as refused:
            if refused.transient:
                again.append(href)
            log.info("mentioned account not looked up: %s", refused)
    async with ctx.db.write() as tx:
        post = (
            await tx.execute(select(statuses.c.id).where(statuses.c.id == job.status_id))
        ).first()
        if post is None:
            return
        remote = set(
            (
                await tx.execute(
                    select(accounts.c.id).where(
                        accounts.c.id.in_(found), accounts.c.domain.is_not(None)
                    )
                )
            ).scalars()
        )
        held = set(
            (
                await tx.execute(
                    select(mentions.c.account_id).where(mentions.c.status_id == job.status_id)
                )
            ).scalars()
        )
        added = sorted(remote - held)
        if added:
            await tx.execute(
                insert(mentions),
                [{"status_id": job.status_id, "account_id": aid} for aid in added],
            )
            # No cache may keep the post without its mentions.
            tx.emit(StatusRewritten(job.status_id))
        if again and job.tries + 1 < LOOKUP_TRIES:
            await enqueue(
                tx,
                replace(job, hrefs=again, tries=job.tries + 1),
                run_at=asked_again_at(job.tries),
            )


async def _post_here(ctx: JobContext, status_id: int) -> bool:
    async with ctx.db.read() as conn:
        found = (
            await conn.execute(select(statuses.c.id).where(statuses.c.id == status_id))
        ).first()
    return found is not None
