"""A file is what its bytes say, whatever its name."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from roost.media import sniff as formats
from roost.media.sniff import sniff
from tests.media import samples


def _image(name: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, name)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (_image("JPEG"), formats.JPEG),
        (_image("PNG"), formats.PNG),
        (_image("GIF"), formats.GIF),
        (_image("WEBP"), formats.WEBP),
        (samples.mp4(), formats.MP4),
        (samples.mp4(brand=b"qt  "), formats.MOV),
        (samples.mp4(handler=b"soun", brand=b"M4A "), formats.M4A),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm" + b"\0" * 40, formats.WEBM),
        (b"OggS\0\x02" + b"\0" * 22 + b"\x01vorbis" + b"\0" * 30, formats.OGG),
        (samples.mp3(), formats.MP3),
        (samples.mp3()[samples.mp3().index(b"\xff\xfb") :], formats.MP3),
    ],
)
def test_given_known_bytes_then_the_format_is_recognised(
    data: bytes, expected: formats.Format
) -> None:
    assert sniff(data[: formats.HEAD_BYTES]) == expected


@pytest.mark.parametrize(
    "data",
    [
        b"<html><script>alert(1)</script></html>",
        b"%PDF-1.7\n",
        b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska" + b"\0" * 40,
        b"MZ\x90\x00",
        b"",
    ],
)
def test_given_anything_else_then_nothing_is_recognised(data: bytes) -> None:
    assert sniff(data[: formats.HEAD_BYTES]) is None
