"""/api/v1/polls: a poll, and voting in it. The Poll entity is built here.

A poll is read through its post (roost/domain/polls/queries.py): whoever may
not see the post gets 404 for its poll too.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from roost.api.auth import optional, services, user
from roost.api.mastodon import schema
from roost.api.openapi import answers
from roost.api.params import Id, Many, Params, body
from roost.api.responses import JSON, timestamp
from roost.domain.polls import actions, queries
from roost.domain.types import PollView, Viewer

router = APIRouter()


def poll_entity(poll: PollView, viewer_id: int | None) -> dict[str, Any]:
    """Mastodon's Poll. Per-option counts are hidden (null) while a poll that
    hides its totals runs, except from its author; ``voted`` and ``own_votes``
    only for a signed-in viewer (the author counts as having voted)."""
    own = viewer_id is not None and viewer_id == poll.account_id
    hidden = poll.hide_totals and not poll.expired and not own
    data: dict[str, Any] = {
        "id": str(poll.id),
        "expires_at": timestamp(poll.expires_at),
        "expired": poll.expired,
        "multiple": poll.multiple,
        "votes_count": poll.votes_count,
        "voters_count": poll.voters_count if poll.multiple else None,
        "options": [
            {"title": title, "votes_count": None if hidden else count}
            for title, count in zip(poll.options, poll.counts, strict=True)
        ],
        "emojis": [],
    }
    if viewer_id is not None and poll.own_votes is not None:
        data["voted"] = own or bool(poll.own_votes)
        data["own_votes"] = list(poll.own_votes)
    return data


@router.get("/api/v1/polls/{poll_id}", responses=answers(schema.Poll))
async def get_poll(
    request: Request, poll_id: Id, viewer: Viewer = Depends(optional("read:statuses"))
) -> JSON:
    async with services(request).db.read() as conn:
        cleared = await queries.poll(conn, viewer, poll_id)
    return JSON(poll_entity(cleared.value, viewer.account_id))


class VoteParams(Params):
    choices: Many[int] = Field(default=[], description="The indices of the chosen options")


@router.post("/api/v1/polls/{poll_id}/votes", responses=answers(schema.Poll))
async def vote(
    request: Request,
    poll_id: Id,
    viewer: Viewer = Depends(user("write:statuses")),
    params: VoteParams = Depends(body(VoteParams)),
) -> JSON:
    db = services(request).db
    async with db.write() as tx:
        await actions.do_vote(tx, viewer, poll_id, params.choices)
    async with db.read() as conn:
        cleared = await queries.poll(conn, viewer, poll_id)
    return JSON(poll_entity(cleared.value, viewer.account_id))
