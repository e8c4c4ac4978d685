"""How a stored media file is named: the SHA-256 of its bytes and its extension."""

from __future__ import annotations

import re
from dataclasses import dataclass

_KEY = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}\.[a-z0-9]{2,5}$")


@dataclass(frozen=True, slots=True)
class StoredFile:
    key: str
    size: int


def valid_key(key: str) -> bool:
    return bool(_KEY.match(key))


def key_for(digest: str, extension: str) -> str:
    if not re.fullmatch(r"[a-z0-9]{2,5}", extension):
        raise ValueError(f"unexpected file extension {extension!r}")
    return f"{digest[:2]}/{digest[2:4]}/{digest}.{extension}"
