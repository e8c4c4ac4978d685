"""Polls on the web: the compose form's poll fields, and voting from a post's
card.

The poll is the API's own (roost/domain/polls): ``poll_from_form`` turns the
form's fields into the ``NewPoll`` that ``POST /api/v1/statuses`` builds from
``poll[options][]``, and the vote is ``do_vote``, as ``POST
/api/v1/polls/ID/votes``, with the browser session's viewer; the same limits
and refusals apply (a hidden post's poll is not found).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from roost.domain.polls import actions
from roost.domain.polls.actions import MAX_OPTIONS, NewPoll
from roost.domain.statuses import queries
from roost.errors import Invalid, NotFound
from roost.web import present
from roost.web.csrf import checked_form
from roost.web.render import render
from roost.web.viewer import WebViewer, services, signed_in

router = APIRouter(include_in_schema=False)


def _text(form: dict[str, Any], name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def poll_from_form(form: dict[str, Any]) -> NewPoll | None:
    """The compose form's poll (``poll_option_1``..``poll_option_4``,
    ``poll_expires_in``, ``poll_multiple``, ``poll_hide_totals``); None when
    no option is filled. Its limits are checked by the post's creation."""
    options = tuple(
        text for n in range(1, MAX_OPTIONS + 1) if (text := _text(form, f"poll_option_{n}"))
    )
    if not options:
        return None
    expires = _text(form, "poll_expires_in")
    if not expires.isdigit() or len(expires) > 9:
        raise Invalid("Choose how long the poll is open")
    return NewPoll(
        options=options,
        expires_in=int(expires),
        multiple=bool(_text(form, "poll_multiple")),
        hide_totals=bool(_text(form, "poll_hide_totals")),
    )


def _id(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 19:
        raise NotFound()
    return int(raw)


def _choices(form: dict[str, Any]) -> list[int]:
    raw = form.get("choices", [])
    values = raw if isinstance(raw, list) else [raw]
    chosen = [v for v in values if isinstance(v, str) and v.isdigit() and len(v) < 3]
    if not chosen:
        raise Invalid("Choose an option to vote for")
    return [int(v) for v in chosen]


@router.post("/web/polls/{poll_id}/votes")
async def vote(request: Request, poll_id: str, web: WebViewer = Depends(signed_in)) -> Response:
    form = await checked_form(request, web)
    svc = services(request)
    async with svc.db.write() as tx:
        status_id = await actions.do_vote(tx, web.viewer, _id(poll_id), _choices(form))
    async with svc.db.read() as conn:
        view = await queries.status(conn, web.viewer, status_id)
    post = present.post(view, svc.settings.base_url)
    if request.headers.get("hx-request") != "true":
        return RedirectResponse(post.url, status_code=303)
    return render(request, "app/post_fragment.html", viewer=web, post=post)
