"""/static/NAME: the stylesheet, the scripts and their licence notes.

Asked for as ``/static/NAME?v=HASH`` (what ``static_url`` writes into pages)
with the current content's hash, a file may be kept for a year
(``immutable``): a new release changes the hash and so the URL. Any other
request gets a short cache and an ETag.
"""

from __future__ import annotations

import hashlib
import mimetypes
from functools import cache

from fastapi import APIRouter, Request
from fastapi.responses import Response

from roost.errors import NotFound
from roost.web.render import STATIC

router = APIRouter(include_in_schema=False)

_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
          ".md": "text/markdown; charset=utf-8"}  # fmt: skip


@cache
def _file(name: str) -> tuple[bytes, str, str] | None:
    if "/" in name or "\\" in name or name.startswith("."):
        return None
    path = STATIC / name
    if not path.is_file():
        return None
    data = path.read_bytes()
    suffix = path.suffix.lower()
    kind = _TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    return data, kind, hashlib.sha256(data).hexdigest()[:12]


@router.api_route("/static/{name}", methods=["GET", "HEAD"])
async def static_file(request: Request, name: str) -> Response:
    found = _file(name)
    if found is None:
        raise NotFound()
    data, kind, digest = found
    etag = f'"{digest}"'
    if request.query_params.get("v") == digest:
        policy = "public, max-age=31536000, immutable"
    else:
        policy = "public, max-age=300"
    headers = {"Cache-Control": policy, "ETag": etag, "X-Content-Type-Options": "nosniff"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    body = b"" if request.method == "HEAD" else data
    return Response(body, media_type=kind, headers=headers)
