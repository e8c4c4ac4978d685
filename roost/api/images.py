"""The images every server has before its operator uploads any: the default
avatar and header, and the instance's thumbnail and icons (what apps show for
the server in their account pickers and server lists).

They are drawn here, not shipped as files: the avatar and header at import
(they are tiny), the larger thumbnail and icons on first request, then kept.
"""

from __future__ import annotations

import asyncio
import io
import struct
import zlib
from functools import cache

from fastapi import APIRouter
from fastapi.responses import Response
from PIL import Image, ImageDraw

from roost.api.openapi import answers
from roost.errors import NotFound

router = APIRouter()

# Mastodon's sizes: the instance thumbnail at 1x and 2x, and the icon sizes
# its web app declares for home screens and app lists.
THUMBNAIL_VERSIONS = {"@1x": (1200, 630), "@2x": (2400, 1260)}
ICON_SIZES = (36, 48, 72, 96, 144, 192, 256, 384, 512)


def thumbnail_urls(base: str) -> dict[str, str]:
    """The instance thumbnail's address at each resolution ("@1x", "@2x")."""
    return {version: f"{base}/instance/thumbnail{version}.png" for version in THUMBNAIL_VERSIONS}


def icon_urls(base: str) -> dict[str, str]:
    """The instance icon's address by size ("36x36" ...)."""
    return {f"{n}x{n}": f"{base}/instance/icons/{n}x{n}.png" for n in ICON_SIZES}


_BACKGROUND = (220, 222, 230)
_MARK = (86, 92, 160)


def _solid_png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def _drawn(width: int, height: int) -> bytes:
    """A pale field with a disc in the middle: plain, and recognisably an image
    of this server rather than a broken one."""
    image = Image.new("RGB", (width, height), _BACKGROUND)
    radius = min(width, height) * 0.3
    cx, cy = width / 2, height / 2
    ImageDraw.Draw(image).ellipse((cx - radius, cy - radius, cx + radius, cy + radius), _MARK)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


@cache
def thumbnail(version: str) -> bytes:
    width, height = THUMBNAIL_VERSIONS[version]
    return _drawn(width, height)


@cache
def icon(size: int) -> bytes:
    return _drawn(size, size)


_AVATAR = _solid_png(120, 120, (154, 160, 178))
_HEADER = _solid_png(300, 100, _BACKGROUND)
_CACHE = {"Cache-Control": "public, max-age=86400"}


_PNG = answers(description="A PNG image", media_type="image/png", steady=True)
_SIZED_PNG = answers(description="A PNG image", media_type="image/png", errors=(404,), steady=True)


def _png(data: bytes) -> Response:
    return Response(data, media_type="image/png", headers=_CACHE)


@router.get("/avatars/original/missing.png", response_class=Response, responses=_PNG)
async def avatar() -> Response:
    return _png(_AVATAR)


@router.get("/headers/original/missing.png", response_class=Response, responses=_PNG)
async def header() -> Response:
    return _png(_HEADER)


@router.get("/instance/thumbnail{version}.png", response_class=Response, responses=_SIZED_PNG)
async def instance_thumbnail(version: str) -> Response:
    if version not in THUMBNAIL_VERSIONS:
        raise NotFound("Not Found")
    # Drawing the 2x one takes a tenth of a second: not on the event loop.
    return _png(await asyncio.to_thread(thumbnail, version))


@router.get("/instance/icons/{size}.png", response_class=Response, responses=_SIZED_PNG)
async def instance_icon(size: str) -> Response:
    width, _, height = size.partition("x")
    if not (width.isdigit() and width == height and int(width) in ICON_SIZES):
        raise NotFound("Not Found")
    return _png(icon(int(width)))
