"""What an uploaded file is, decided by its first bytes.

The file name and the Content-Type a client declares are ignored: they are
whatever the client (or an attacker) says. A file whose bytes match none of the
formats below is refused, whatever it is called.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# Enough for every signature below, including a WebM header's DocType.
HEAD_BYTES = 64


class Kind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"


@dataclass(frozen=True, slots=True)
class Format:
    kind: Kind
    mime: str
    extension: str


JPEG = Format(Kind.IMAGE, "image/jpeg", "jpg")
PNG = Format(Kind.IMAGE, "image/png", "png")
GIF = Format(Kind.IMAGE, "image/gif", "gif")
WEBP = Format(Kind.IMAGE, "image/webp", "webp")
MP4 = Format(Kind.VIDEO, "video/mp4", "mp4")
MOV = Format(Kind.VIDEO, "video/quicktime", "mov")
WEBM = Format(Kind.VIDEO, "video/webm", "webm")
OGV = Format(Kind.VIDEO, "video/ogg", "ogv")
MP3 = Format(Kind.AUDIO, "audio/mpeg", "mp3")
OGG = Format(Kind.AUDIO, "audio/ogg", "ogg")
M4A = Format(Kind.AUDIO, "audio/mp4", "m4a")

SUPPORTED = (JPEG, PNG, GIF, WEBP, MP4, MOV, WEBM, OGV, MP3, OGG, M4A)

_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P "}


def sniff(head: bytes) -> Format | None:
    """The format these leading bytes begin, or None when it is none Roost takes."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand == b"qt  ":
            return MOV
        return M4A if brand in _AUDIO_BRANDS else MP4
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        # Matroska in general is not on the list; its WebM profile is.
        return WEBM if b"webm" in head[:HEAD_BYTES] else None
    if head.startswith(b"OggS"):
        return OGV if b"theora" in head[:HEAD_BYTES] else OGG
    if head.startswith(b"ID3") or _mpeg_audio_frame(head):
        return MP3
    return None


def _mpeg_audio_frame(head: bytes) -> bool:
    """An MPEG audio layer III frame header (an MP3 without ID3 tags)."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version = (head[1] >> 3) & 0b11
    layer = (head[1] >> 1) & 0b11
    bitrate = head[2] >> 4
    rate = (head[2] >> 2) & 0b11
    return version != 0b01 and layer == 0b01 and bitrate not in (0, 15) and rate != 0b11
