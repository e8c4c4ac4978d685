"""The local media store: files named by their content, written whole or not at all."""

from __future__ import annotations

import asyncio
import hashlib
import io
from pathlib import Path

import pytest

from roost.errors import Unavailable
from roost.media.store import LocalMediaStore


def test_given_bytes_when_stored_then_named_by_their_hash_and_stored_once(tmp_path: Path) -> None:
    store = LocalMediaStore(tmp_path)
    data = b"a picture" * 100
    digest = hashlib.sha256(data).hexdigest()

    async def scenario() -> None:
        first = await store.put(data, "jpg")
        again = await store.put_stream(io.BytesIO(data), "jpg")
        assert first == again
        assert first.key == f"{digest[:2]}/{digest[2:4]}/{digest}.jpg"
        assert first.size == len(data)
        path = store.path(first.key)
        assert path is not None and path.read_bytes() == data
        await store.delete(first.key)
        await store.delete(first.key)  # already gone: not an error
        assert store.path(first.key) is None

    asyncio.run(scenario())
    assert list((tmp_path / ".incoming").iterdir()) == []


@pytest.mark.parametrize("key", ["../secret_key", "ab/cd/../../x.jpg", "/etc/passwd", "x.jpg"])
def test_given_a_key_that_is_not_a_store_name_then_nothing_is_found(
    tmp_path: Path, key: str
) -> None:
    assert LocalMediaStore(tmp_path).path(key) is None


def test_given_a_store_that_cannot_write_then_unavailable_and_nothing_left(
    tmp_path: Path,
) -> None:
    target = tmp_path / "media"
    target.write_text("a file where the directory should be")
    with pytest.raises(Unavailable, match="could not store"):
        asyncio.run(LocalMediaStore(target).put(b"data", "png"))
