"""Images: checked, turned upright, cut down to size, stripped of metadata.

What a phone writes into a photo (EXIF with GPS position, camera serial
numbers, XMP, comments) never reaches the store: every image is decoded and
encoded again from its pixels alone, keeping only the colour profile. The
EXIF orientation is applied to the pixels first, so the picture stays upright
without the tag.

Decompression bombs (a small file that decodes to billions of pixels) are
refused from the header, before any pixel is decoded, against
``ROOST_MEDIA_MAX_IMAGE_PIXELS``; an animation counts the pixels of all its
frames against the same bound.

Everything here is CPU work on bytes in memory: callers run it in a thread
(``asyncio.to_thread``) so the event loop keeps serving.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import blurhash
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from roost.errors import Invalid, RuleBroken
from roost.media.sniff import GIF, JPEG, PNG, WEBP, Format

PREVIEW_BOX = 640
AVATAR_BOX = (400, 400)
HEADER_BOX = (1500, 500)
_BLURHASH_BOX = 32
_JPEG_QUALITY = 85
# Pillow's own choice for thumbnails: box-reduce by whole factors, then bicubic.
# Near Lanczos in quality at a fraction of its time on 12-megapixel photos.
_RESAMPLE = Image.Resampling.BICUBIC

_PILLOW_FORMATS = {JPEG: "JPEG", PNG: "PNG", GIF: "GIF", WEBP: "WEBP"}
# EXIF orientation -> the transpose that makes the pixels upright.
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True, slots=True)
class ImageLimits:
    max_dimension: int = 1920
    max_pixels: int = 8192 * 8192


@dataclass(frozen=True, slots=True)
class Encoded:
    """One stored rendition: bytes and what to tell apps about them."""

    data: bytes
    format: Format
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class ProcessedImage:
    original: Encoded
    small: Encoded
    blurhash: str
    animated: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _refuse(reason: str) -> Invalid:
    return RuleBroken(f"{reason}")


def _open(data: bytes, fmt: Format, limits: ImageLimits) -> Image.Image:
    """Open from the header only, and refuse what is not what it claims or is too big."""
    try:
        image = Image.open(io.BytesIO(data), formats=[_PILLOW_FORMATS[fmt]])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own guard (above ~179 megapixels) fires first for the
        # biggest bombs; its warning is an error wherever warnings are.
        raise _refuse(_too_many_pixels_message(limits)) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise _refuse(f"the file is not a readable {fmt.extension.upper()} image") from None
    width, height = image.size
    if width < 1 or height < 1:
        raise _refuse("the image has no pixels")
    if width * height > limits.max_pixels:
        raise _refuse(_too_many_pixels_message(limits, width, height))
    return image


def _too_many_pixels_message(limits: ImageLimits, width: int = 0, height: int = 0) -> str:
    size = f" ({width}x{height})" if width else ""
    return (
        f"the image has too many pixels{size}; the limit is "
        f"{limits.max_pixels / 1_000_000:.1f} megapixels"
    )


def _frame_count(image: Image.Image, limits: ImageLimits) -> int:
    frames = int(getattr(image, "n_frames", 1))
    width, height = image.size
    if frames > 1 and width * height * frames > limits.max_pixels:
        raise _refuse(
            f"the animation has too many pixels ({frames} frames of {width}x{height}); "
            f"the limit is {limits.max_pixels / 1_000_000:.1f} megapixels over all frames"
        )
    return frames


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(0x0112, 1)
    except Exception:
        # A broken EXIF block is dropped with the rest of the metadata.
        return 1
    return value if isinstance(value, int) else 1


def _fit(width: int, height: int, box: int) -> tuple[int, int]:
    scale = min(1.0, box / width, box / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _cover(width: int, height: int, box: tuple[int, int]) -> tuple[int, int]:
    scale = min(1.0, max(box[0] / width, box[1] / height))
    return max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))


def _decode_upright(
    image: Image.Image, fmt: Format, needed: Callable[[int, int], tuple[int, int]]
) -> Image.Image:
    """Decode, turned upright; ``needed`` says the least size (upright) the
    caller will cut from, so a JPEG need not be decoded any larger."""
    orientation = _orientation(image)
    if fmt == JPEG:
        # Decoding a large JPEG at 1/2, 1/4 or 1/8 scale is several times
        # faster than decoding it whole and throwing most of it away.
        sideways = orientation in (5, 6, 7, 8)
        width, height = image.size
        target = needed(height, width) if sideways else needed(width, height)
        image.draft(None, (target[1], target[0]) if sideways else target)
    try:
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError):
        raise _refuse(f"the file is not a readable {fmt.extension.upper()} image") from None
    if orientation in _UPRIGHT:
        image = image.transpose(_UPRIGHT[orientation])
    return image


def _normalised_mode(image: Image.Image) -> Image.Image:
    if image.mode in ("RGB", "RGBA", "L"):
        return image
    if image.mode in ("P", "PA", "LA") or "transparency" in image.info:
        return image.convert("RGBA")
    return image.convert("RGB")


def _has_alpha(image: Image.Image) -> bool:
    if image.mode != "RGBA":
        return False
    low = image.getchannel("A").getextrema()[0]
    return isinstance(low, int) and low < 255


def _encode(image: Image.Image, fmt: Format, icc: bytes | None) -> Encoded:
    """Encode from pixels alone: no EXIF, XMP or comments are carried over."""
    image.info = {}
    out = io.BytesIO()
    options: dict[str, Any] = {}
    if icc:
        options["icc_profile"] = icc
    if fmt == JPEG:
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        # Baseline, not progressive: encoding a progressive JPEG takes several
        # times as long, and the preview already covers slow connections.
        image.save(out, "JPEG", quality=_JPEG_QUALITY, **options)
    elif fmt == WEBP:
        image.save(out, "WEBP", quality=_JPEG_QUALITY, **options)
    else:
        image.save(out, "PNG", **options)
    return Encoded(out.getvalue(), fmt, image.width, image.height)


def _static_format(fmt: Format, image: Image.Image) -> Format:
    # A one-frame GIF becomes a PNG: same pixels, no 256-colour palette.
    return PNG if fmt == GIF else fmt


def _preview(image: Image.Image) -> Encoded:
    small = image.copy()
    small.thumbnail((PREVIEW_BOX, PREVIEW_BOX), _RESAMPLE, reducing_gap=2.0)
    return _encode(small, PNG if _has_alpha(small) else JPEG, None)


def _blurhash(image: Image.Image) -> str:
    tiny = image.convert("RGB")
    tiny.thumbnail((_BLURHASH_BOX, _BLURHASH_BOX), Image.Resampling.BILINEAR)
    width, height = tiny.size
    raw = tiny.tobytes()
    stride = width * 3
    rows = [[raw[x : x + 3] for x in range(y * stride, (y + 1) * stride, 3)] for y in range(height)]
    components_x, components_y = (4, 3) if width >= height else (3, 4)
    result: str = blurhash.encode(rows, components_x, components_y)
    return result


def process_image(data: bytes, fmt: Format, limits: ImageLimits) -> ProcessedImage:
    """Check, clean and resize one uploaded image; Invalid (422) when it is refused."""
    image = _open(data, fmt, limits)
    if _frame_count(image, limits) > 1:
        return _process_animation(image, fmt, limits)
    icc = image.info.get("icc_profile")
    box = limits.max_dimension
    upright = _normalised_mode(_decode_upright(image, fmt, lambda w, h: _fit(w, h, box)))
    if upright.width > limits.max_dimension or upright.height > limits.max_dimension:
        upright.thumbnail((limits.max_dimension, limits.max_dimension), _RESAMPLE, reducing_gap=2.0)
    original = _encode(upright.copy(), _static_format(fmt, upright), icc)
    return ProcessedImage(original, _preview(upright), _blurhash(upright))


def _process_animation(image: Image.Image, fmt: Format, limits: ImageLimits) -> ProcessedImage:
    frames: list[Image.Image] = []
    durations: list[int] = []
    box = (limits.max_dimension, limits.max_dimension)
    loop = image.info.get("loop", 0)
    try:
        for frame in ImageSequence.Iterator(image):
            durations.append(int(frame.info.get("duration", 100)) or 100)
            rgba = frame.convert("RGBA")
            rgba.thumbnail(box, _RESAMPLE, reducing_gap=2.0)
            rgba.info = {}
            frames.append(rgba)
    except (OSError, SyntaxError, ValueError, EOFError):
        raise _refuse(f"the file is not a readable {fmt.extension.upper()} animation") from None
    out = io.BytesIO()
    name = _PILLOW_FORMATS[fmt]
    options: dict[str, Any] = {"save_all": True, "append_images": frames[1:]}
    options.update(duration=durations, loop=loop)
    if fmt == GIF:
        options["disposal"] = 2
    elif fmt == WEBP:
        options["quality"] = _JPEG_QUALITY
    frames[0].save(out, name, **options)
    first = frames[0]
    original = Encoded(out.getvalue(), fmt, first.width, first.height)
    extra = {"frames": len(frames), "duration": round(sum(durations) / 1000, 3)}
    return ProcessedImage(original, _preview(first), _blurhash(first), True, extra)


def decode_for_hashing(data: bytes, fmt: Format, limits: ImageLimits, box: int) -> Image.Image:
    """The first frame, upright, in RGB, fitted within ``box`` pixels a side:
    what a perceptual hash is computed from (roost/media/pdq.py). Invalid for
    what ``process_image`` would refuse as unreadable or too large."""
    image = _open(data, fmt, limits)
    _frame_count(image, limits)
    try:
        upright = _decode_upright(image, fmt, lambda w, h: _fit(w, h, box)).convert("RGB")
    except (OSError, SyntaxError, ValueError, EOFError):
        raise _refuse(f"the file is not a readable {fmt.extension.upper()} image") from None
    if upright.width > box or upright.height > box:
        upright.thumbnail((box, box), _RESAMPLE, reducing_gap=2.0)
    return upright


def process_profile_image(
    data: bytes, fmt: Format, limits: ImageLimits, box: tuple[int, int]
) -> Encoded:
    """An avatar or header: the first frame, cropped to fill ``box``, no metadata."""
    image = _open(data, fmt, limits)
    _frame_count(image, limits)
    icc = image.info.get("icc_profile")
    upright = _normalised_mode(_decode_upright(image, fmt, lambda w, h: _cover(w, h, box)))
    fitted = ImageOps.fit(upright, box, _RESAMPLE)
    return _encode(fitted, _static_format(fmt, fitted), icc)
