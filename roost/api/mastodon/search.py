"""/api/v2/search: posts, accounts and hashtags in one answer."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from roost.api.auth import optional, services
from roost.api.mastodon import entities, schema, serializers
from roost.api.mastodon._common import accounts_json
from roost.api.openapi import answers
from roost.api.params import Count, Offset, OptionalId, Params, Words, query
from roost.api.responses import JSON
from roost.domain.federation import account_urls, remote, threads
from roost.domain.filters.apply import apply_filters
from roost.domain.search import queries as search
from roost.domain.statuses.feed import by_ids
from roost.domain.tags import queries as tag_queries
from roost.domain.types import Viewer
from roost.errors import Unauthorized

router = APIRouter()

_TYPES = {"accounts", "statuses", "hashtags"}
MAX_QUERY_CHARS = 500


class SearchParams(Params):
    q: Words = Field(default="", description="What to look for (operators: from:, has:media, ...)")
    type: str | None = Field(default=None, description="accounts, statuses or hashtags")
    resolve: bool = False
    following: bool = False
    account_id: OptionalId = Field(default=None, description="Only posts by this account")
    exclude_unreviewed: bool = False
    max_id: OptionalId = None
    min_id: OptionalId = None
    limit: Count = Field(default=20)
    offset: Offset = 0


async def _resolve(request: Request, text: str) -> None:
    """``resolve=true`` with ``name@domain`` of another server: its account is
    fetched (WebFinger, then the actor) and stored, to be found below. A
    server that cannot be reached finds nothing, as an unknown name does."""
    svc = services(request)
    username, domain = remote.split_acct(text)
    if not username or not domain or domain == svc.settings.domain or " " in text.strip():
        return
    try:
        await remote.resolve_acct(svc.db, svc.settings, text)
    except remote.RemoteRefused:
        return


def _is_url(text: str) -> bool:
    return text.strip().lower().startswith(("https://", "http://"))


async def _resolve_status(request: Request, text: str) -> int | None:
    """``resolve=true`` with a post's address: the post, local or another
    server's (stored, else fetched and stored when public or unlisted;
    roost/domain/federation/threads.py). The privacy policy then says
    whether the viewer sees it."""
    svc = services(request)
    return await threads.resolve_status(svc.job_context(), text)


@router.get("/api/v2/search", responses=answers(schema.Search))
async def search_v2(
    request: Request,
    viewer: Viewer = Depends(optional("read:search")),
    params: SearchParams = Depends(query(SearchParams)),
) -> JSON:
    # Longer than anyone types: the rest is not searched (and not an error).
    text = params.q[:MAX_QUERY_CHARS]
    if viewer.anonymous and (params.offset or params.resolve):
        # As in Mastodon: paging and remote lookups are for signed-in people.
        raise Unauthorized("Search queries with offset or resolve require a signed-in user")
    limit = min(max(params.limit, 1), 40)
    wanted = {params.type} & _TYPES if params.type else _TYPES
    svc = services(request)
    base = svc.settings.base_url
    result: dict[str, list[object]] = {"accounts": [], "statuses": [], "hashtags": []}
    if params.resolve and "accounts" in wanted and svc.settings.federation:
        await _resolve(request, text)
    # A post's address with resolve=true finds that post (or nothing), as
    # Mastodon's search does, instead of the posts containing the words.
    by_address = params.resolve and "statuses" in wanted and _is_url(text)
    # An account's address (its actor id or profile page) with resolve=true
    # finds that account (or nothing), as Mastodon's search does: an account
    # known here first, else a post, else the address is asked for an actor.
    account_by_address = params.resolve and "accounts" in wanted and _is_url(text)
    resolved = resolved_account = None
    if account_by_address and not params.offset:
        resolved_account = await account_urls.resolve_account_url(
            svc.db, svc.settings, text, fetch=False
        )
    if by_address and not params.offset and resolved_account is None:
        resolved = await _resolve_status(request, text)
    if account_by_address and not params.offset and resolved is None and resolved_account is None:
        resolved_account = await account_urls.resolve_account_url(svc.db, svc.settings, text)
    async with svc.db.scope() as reads:
        # A connection only for the parts that ask through one: posts alone
        # (the usual search) are prepared reads on SQLite.
        if account_by_address:
            conn = await reads.conn()
            found = (
                []
                if resolved_account is None
                else await account_urls.found_account(conn, viewer, resolved_account)
            )
            result["accounts"] = await accounts_json(request, found)
        elif "accounts" in wanted:
            rows = await search.search_accounts(
                await reads.conn(),
                viewer,
                text,
                local_domain=svc.settings.domain,
                following=params.following,
                limit=limit,
                offset=params.offset,
            )
            result["accounts"] = await accounts_json(request, rows)
        if by_address:
            views = await by_ids(reads, viewer, [] if resolved is None else [resolved])
            views = await apply_filters(await reads.conn(), viewer, views, None)
            result["statuses"] = [serializers.status(v, base) for v in views]
        elif "statuses" in wanted:
            views = await search.search_statuses(
                None,
                viewer,
                text,
                account_id=params.account_id,
                max_id=params.max_id,
                min_id=params.min_id,
                limit=limit,
                offset=params.offset,
                reads=reads,
            )
            views = await apply_filters(reads, viewer, views, None)
            result["statuses"] = [serializers.status(v, base) for v in views]
        if "hashtags" in wanted:
            tags = await tag_queries.search(
                await reads.conn(), viewer, text, limit=limit, offset=params.offset
            )
            result["hashtags"] = [entities.tag(t, base) for t in tags]
    return JSON(result)
