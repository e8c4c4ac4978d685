"""JSON answers encoded with orjson (timelines are the hot path)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response

from roost.api.pagination import link_header


def timestamp(moment: datetime | None) -> str | None:
    """A time as the API writes it: UTC, milliseconds, ``Z``."""
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class JSON(Response):
    media_type = "application/json; charset=utf-8"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def paged_json(
    request: Request, items: list[Any], newest_key: int | None, oldest_key: int | None
) -> JSON:
    response = JSON(items)
    link = link_header(request, newest_key, oldest_key)
    if link:
        response.headers["Link"] = link
    return response


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSON:
    return JSON({"error": message}, status_code=status, headers=headers)
