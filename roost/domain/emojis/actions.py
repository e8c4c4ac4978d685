"""Custom emoji, added and removed by the operator (``roost emoji``).

The image is stored once under ``$ROOST_DATA_DIR/emoji``, named by a hash of
its bytes, so adding the same picture twice stores it once and a name can never
point outside that folder. What a file is comes from its bytes, never its name.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from sqlalchemy import delete, select

from roost.clock import utcnow
from roost.config import Settings
from roost.db.engine import Database, Tx
from roost.db.tables import custom_emojis
from roost.domain.known_images.screening import Upload, screen_image
from roost.errors import Conflict, Invalid, NotFound
from roost.ids import new_id
from roost.media.sniff import GIF, PNG, WEBP, sniff

SHORTCODE = re.compile(r"^[a-zA-Z0-9_]{2,64}$")
MAX_BYTES = 256 * 1024
MAX_SIDE = 1024
_FORMATS = {PNG.mime: PNG, GIF.mime: GIF, WEBP.mime: WEBP}
FILE_NAME = re.compile(r"^[0-9a-f]{32}\.(png|gif|webp)$")


def emoji_dir(data_dir: Path) -> Path:
    return data_dir / "emoji"


@dataclass(frozen=True)
class EmojiImage:
    file_name: str
    content_type: str
    data: bytes


def check_image(data: bytes) -> EmojiImage:
    """A PNG, GIF or WebP of at most 256 KiB and 1024 pixels a side, or Invalid."""
    if len(data) > MAX_BYTES:
        raise Invalid(f"the image is {len(data)} bytes; custom emoji may be at most {MAX_BYTES}")
    found = sniff(data[:64])
    if found is None or found.mime not in _FORMATS:
        raise Invalid("the file is not a PNG, GIF or WebP image")
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise Invalid("the image is damaged or incomplete") from None
    if max(width, height) > MAX_SIDE:
        raise Invalid(f"the image is {width}x{height}; at most {MAX_SIDE} pixels a side")
    digest = hashlib.sha256(data).hexdigest()[:32]
    return EmojiImage(f"{digest}.{found.extension}", found.mime, data)


async def screen(db: Database, settings: Settings, data: bytes, account_id: int | None) -> None:
    """Check the image against the known-image lists before ``do_add_emoji``
    stores it (roost/domain/known_images/screening.py); what is not an image
    of an accepted format is left for ``check_image`` to refuse."""
    found = sniff(data[:64])
    if found is not None and found.mime in _FORMATS and len(data) <= MAX_BYTES:
        await screen_image(db, settings, data, found, Upload(account_id, "emoji"))


def _store(directory: Path, image: EmojiImage) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / image.file_name
    if target.exists():
        return
    partial = directory / f".{image.file_name}.{os.getpid()}.part"
    partial.write_bytes(image.data)
    os.replace(partial, target)  # whole file or none, even if interrupted


async def do_add_emoji(
    tx: Tx,
    data_dir: Path,
    shortcode: str,
    data: bytes,
    *,
    category: str | None = None,
    visible_in_picker: bool = True,
) -> int:
    if not SHORTCODE.match(shortcode):
        raise Invalid("a shortcode is 2 to 64 letters, digits or underscores")
    taken = (
        await tx.execute(select(custom_emojis.c.id).where(custom_emojis.c.shortcode == shortcode))
    ).first()
    if taken is not None:
        raise Conflict(f"there is already an emoji :{shortcode}:; remove it first")
    image = check_image(data)
    _store(emoji_dir(data_dir), image)
    emoji_id = new_id()
    await tx.execute(
        custom_emojis.insert().values(
            id=emoji_id,
            shortcode=shortcode,
            file_name=image.file_name,
            content_type=image.content_type,
            file_size=len(data),
            category=(category or None),
            visible_in_picker=visible_in_picker,
            created_at=utcnow(),
        )
    )
    return emoji_id


async def do_remove_emoji(tx: Tx, data_dir: Path, shortcode: str) -> None:
    """Remove the emoji; its file goes too unless another emoji shares it."""
    row = (
        await tx.execute(
            select(custom_emojis.c.id, custom_emojis.c.file_name).where(
                custom_emojis.c.shortcode == shortcode
            )
        )
    ).first()
    if row is None:
        raise NotFound(f"there is no emoji :{shortcode}:")
    await tx.execute(delete(custom_emojis).where(custom_emojis.c.id == row.id))
    shared = (
        await tx.execute(
            select(custom_emojis.c.id).where(custom_emojis.c.file_name == row.file_name)
        )
    ).first()
    if shared is None:

        def unlink() -> None:
            (emoji_dir(data_dir) / row.file_name).unlink(missing_ok=True)

        # Only once the row is gone for good: a rolled-back removal keeps its file.
        tx.after_commit(unlink)
