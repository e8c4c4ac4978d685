"""Deterministic pictures for the known-image tests: blurred shapes on a
coloured ground, one per seed, enough structure for a meaningful PDQ hash
(quality near 100), and the altered copies a re-uploader would make."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw, ImageFilter, ImageOps

from roost.media import images, pdq
from roost.media.sniff import JPEG, PNG


def picture(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    pick = random.Random(seed)
    width, height = size
    image = Image.new("RGB", size, tuple(pick.randrange(256) for _ in range(3)))  # type: ignore[arg-type]
    draw = ImageDraw.Draw(image)
    for _ in range(pick.randrange(8, 20)):
        left, top = pick.randrange(width), pick.randrange(height)
        box = (
            left,
            top,
            left + pick.randrange(20, width // 2),
            top + pick.randrange(20, height // 2),
        )
        colour = tuple(pick.randrange(256) for _ in range(3))
        if pick.random() < 0.5:
            draw.ellipse(box, fill=colour)  # type: ignore[arg-type]
        else:
            draw.rectangle(box, fill=colour)  # type: ignore[arg-type]
    return image.filter(ImageFilter.GaussianBlur(2))


def encoded(image: Image.Image, kind: str = "PNG", **options: int) -> bytes:
    out = io.BytesIO()
    image.save(out, kind, **options)
    return out.getvalue()


def png(seed: int, size: tuple[int, int] = (640, 480)) -> bytes:
    return encoded(picture(seed, size))


def variants(image: Image.Image) -> dict[str, bytes]:
    """What someone makes of a listed picture to slip it past a filter."""
    width, height = image.size
    return {
        "resized": encoded(image.resize((width // 2, height // 2), Image.Resampling.LANCZOS)),
        "jpeg-quality-50": encoded(image, "JPEG", quality=50),
        "cropped": encoded(image.crop((8, 6, width - 8, height - 6))),
        "mirrored": encoded(ImageOps.mirror(image)),
        "mirrored-back": encoded(
            ImageOps.mirror(ImageOps.mirror(image).resize((width - 40, height - 30)))
        ),
    }


def pdq_hex(data: bytes) -> str:
    """The PDQ hash a list would hold for this picture (PNG or JPEG)."""
    fmt = JPEG if data[:2] == b"\xff\xd8" else PNG
    return pdq.hash_image(data, fmt, images.ImageLimits()).hex
