"""The default avatar and header, made at import so no binary file is shipped."""

from __future__ import annotations

import struct
import zlib

from fastapi import APIRouter
from fastapi.responses import Response

router = APIRouter()


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


_AVATAR = _solid_png(120, 120, (154, 160, 178))
_HEADER = _solid_png(300, 100, (220, 222, 230))
_CACHE = {"Cache-Control": "public, max-age=86400"}


@router.get("/avatars/original/missing.png")
async def avatar() -> Response:
    return Response(_AVATAR, media_type="image/png", headers=_CACHE)


@router.get("/headers/original/missing.png")
async def header() -> Response:
    return Response(_HEADER, media_type="image/png", headers=_CACHE)
