"""The bucket store against a real S3-compatible server (SeaweedFS)."""

from __future__ import annotations

import asyncio
import hashlib
import io
from pathlib import Path

import pytest

from roost.config import SettingsError, load_settings
from roost.errors import Unavailable
from roost.media.s3 import S3Config, S3MediaStore
from tests.s3_server import S3Server, bucket_store, plain_get


def test_given_bytes_when_put_then_named_by_hash_and_read_back_through_the_cache(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    store = bucket_store(s3_server, s3_bucket, tmp_path / "cache")
    data = b"\x89PNG not really" * 1000

    stored = asyncio.run(store.put(data, "png"))
    again = asyncio.run(store.put(data, "png"))

    digest = hashlib.sha256(data).hexdigest()
    assert stored.key == again.key == f"{digest[:2]}/{digest[2:4]}/{digest}.png"
    assert asyncio.run(store.exists(stored.key))
    assert [o.key for o in asyncio.run(store.list_objects())] == [stored.key]
    copy = asyncio.run(store.local_copy(stored.key))
    assert copy is not None and copy.read_bytes() == data
    assert copy.is_relative_to(tmp_path / "cache")


def test_given_a_large_stream_when_put_then_stored_whole(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    store = bucket_store(s3_server, s3_bucket, tmp_path / "cache")
    data = bytes(range(256)) * 20_000  # 5 MB, several chunks

    stored = asyncio.run(store.put_stream(io.BytesIO(data), "mp4"))

    assert stored.size == len(data)
    copy = asyncio.run(store.local_copy(stored.key))
    assert copy is not None and copy.read_bytes() == data


def test_given_a_stored_file_when_deleted_then_gone_from_bucket_and_cache(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    store = bucket_store(s3_server, s3_bucket, tmp_path / "cache")
    stored = asyncio.run(store.put(b"bye" * 100, "jpg"))
    copy = asyncio.run(store.local_copy(stored.key))
    assert copy is not None

    asyncio.run(store.delete(stored.key))
    asyncio.run(store.delete(stored.key))  # absent: not an error

    assert not asyncio.run(store.exists(stored.key))
    assert not copy.exists()
    assert asyncio.run(store.local_copy(stored.key)) is None


def test_given_the_bucket_when_read_without_a_signature_then_refused(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    store = bucket_store(s3_server, s3_bucket, tmp_path / "cache")
    stored = asyncio.run(store.put(b"private" * 50, "png"))

    assert plain_get(f"{s3_server.endpoint}/{s3_bucket}/{stored.key}") == 403


def test_given_a_wrong_secret_when_used_then_unavailable_and_the_secret_is_not_logged(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "wrong-secret-" + "x" * 20
    store = S3MediaStore(
        S3Config(s3_server.endpoint, s3_bucket, "us-east-1", s3_server.access_key, wrong),
        tmp_path / "cache",
        0,
    )

    with pytest.raises(Unavailable):
        asyncio.run(store.put(b"nope", "png"))

    assert "answered 403" in caplog.text
    assert wrong not in caplog.text and wrong not in repr(store)


def test_given_a_cache_bound_when_exceeded_then_least_recently_read_copies_dropped(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    config = S3Config(
        s3_server.endpoint, s3_bucket, "us-east-1", s3_server.access_key, s3_server.secret_key
    )
    store = S3MediaStore(config, tmp_path / "cache", 150_000)
    keys = [asyncio.run(store.put(bytes([n]) * 100_000, "png")).key for n in range(3)]

    copies = [asyncio.run(store.local_copy(key)) for key in keys]

    assert copies[-1] is not None and copies[-1].exists()
    assert sum(1 for c in copies if c is not None and c.exists()) == 1
    assert all(asyncio.run(store.exists(key)) for key in keys)  # the bucket keeps them all


def test_given_s3_chosen_without_its_settings_then_start_is_refused_naming_them(
    tmp_path: Path,
) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings(data_dir=tmp_path, media_store="s3", s3_endpoint="http://127.0.0.1:1")
    message = str(refused.value)
    assert "ROOST_S3_BUCKET" in message and "ROOST_S3_SECRET_KEY" in message
    assert "ROOST_S3_ENDPOINT" not in message


def test_given_a_bad_secret_key_setting_then_the_error_does_not_repeat_it(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings(data_dir=tmp_path, s3_secret_key=["hunter2"], s3_bucket="B!")
    message = str(refused.value)
    assert "ROOST_S3_BUCKET" in message and "ROOST_S3_SECRET_KEY" in message
    assert "hunter2" not in message


def test_given_an_unreachable_bucket_then_cached_files_still_read_and_new_ones_refused(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    store = bucket_store(s3_server, s3_bucket, cache)
    seen = asyncio.run(store.put(b"seen before" * 100, "png"))
    unseen = asyncio.run(store.put(b"never served" * 100, "png"))
    assert asyncio.run(store.local_copy(seen.key)) is not None
    down = S3MediaStore(
        S3Config("http://127.0.0.1:9", s3_bucket, "us-east-1", "k", "s"), cache, 1 << 30
    )

    copy = asyncio.run(down.local_copy(seen.key))

    assert copy is not None and copy.read_bytes() == b"seen before" * 100
    with pytest.raises(Unavailable):
        asyncio.run(down.local_copy(unseen.key))
    with pytest.raises(Unavailable):
        asyncio.run(down.put(b"new", "png"))
