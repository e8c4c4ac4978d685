"""``Link`` headers for paged lists, in one place."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request


def link_header(request: Request, newest_key: int | None, oldest_key: int | None) -> str | None:
    """next = older than the last item shown; prev = newer than the first."""
    if newest_key is None or oldest_key is None:
        return None
    url_ = request.url
    base = f"{url_.scheme}://{url_.netloc}{url_.path}"
    kept = [
        (k, v)
        for k, v in request.query_params.multi_items()
        if k not in {"max_id", "min_id", "since_id"}
    ]

    def url(extra: tuple[str, str]) -> str:
        return f"{base}?{urlencode([*kept, extra])}"

    return (
        f'<{url(("max_id", str(oldest_key)))}>; rel="next", '
        f'<{url(("min_id", str(newest_key)))}>; rel="prev"'
    )


def offset_link_header(request: Request, offset: int, limit: int, more: bool) -> str | None:
    """For lists paged by ``offset``: next when more follow, prev when some came before."""
    url_ = request.url
    base = f"{url_.scheme}://{url_.netloc}{url_.path}"
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "offset"]

    def url(at: int) -> str:
        return f"{base}?{urlencode([*kept, ('offset', str(at))])}"

    links = []
    if more:
        links.append(f'<{url(offset + limit)}>; rel="next"')
    if offset > 0:
        links.append(f'<{url(max(0, offset - limit))}>; rel="prev"')
    return ", ".join(links) or None
