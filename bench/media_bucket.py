"""Media on object storage: what a bucket costs next to a local directory.

    .venv/bin/python -m bench.media_bucket [--runs 15]

Starts a SeaweedFS server (the ``weed`` binary of the test requirements) on
spare loopback ports in a temporary directory, and times, for a 300 KB
picture and a 20 MB video, with the bucket store (roost/media/s3.py) and with
the local directory store: storing the file (``put`` / ``put_stream``), the
first read on a server (for the bucket: the download into the server's cache)
and a later read (from that cache). The first read is what a server pays
once per file it serves; the rest is what every view costs. Medians, in
milliseconds. Exits 1 if a file read back differs from what was stored.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench import _results
from roost.media.s3 import S3Config, S3MediaStore
from roost.media.store import LocalMediaStore, MediaStore
from tests.s3_server import S3Server, weed_server

SIZES = {"picture": 300 * 1024, "video": 20 * 1024 * 1024}


async def _read_ms(store: MediaStore, key: str) -> float:
    started = time.perf_counter()
    await store.local_copy(key)
    return (time.perf_counter() - started) * 1000


async def _measure(store: MediaStore, cache: Path | None, size: int, runs: int) -> dict[str, float]:
    puts, firsts, laters = [], [], []
    for _ in range(runs):
        data = secrets.token_bytes(size)
        if size > 1024 * 1024:
            started = time.perf_counter()
            stored = await store.put_stream(io.BytesIO(data), "mp4")
            puts.append((time.perf_counter() - started) * 1000)
        else:
            started = time.perf_counter()
            stored = await store.put(data, "png")
            puts.append((time.perf_counter() - started) * 1000)
        if cache is not None:
            shutil.rmtree(cache, ignore_errors=True)  # a server that never served it
        key = stored.key
        firsts.append(await _read_ms(store, key))
        laters.append(await _read_ms(store, key))
        copy = await store.local_copy(key)
        if copy is None or copy.read_bytes() != data:
            print(f"FAILED: {key} did not read back as stored")
            sys.exit(1)
        await store.delete(key)
    return {
        "put": statistics.median(puts),
        "first read": statistics.median(firsts),
        "later read": statistics.median(laters),
    }


async def _run(server: S3Server, root: Path, runs: int) -> dict[str, dict[str, dict[str, float]]]:
    config = S3Config(server.endpoint, "bench", "us-east-1", server.access_key, server.secret_key)
    cache = root / "media-cache"
    bucket = S3MediaStore(config, cache, 1 << 30)
    await bucket.create_bucket()
    local = LocalMediaStore(root / "media")
    return {
        label: {
            "bucket": await _measure(bucket, cache, size, runs),
            "local": await _measure(local, None, size, runs),
        }
        for label, size in SIZES.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")
    with contextlib.ExitStack() as stack:
        temp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="roost-bench-s3-")))
        server = stack.enter_context(weed_server(temp / "weed"))
        results = asyncio.run(_run(server, temp, args.runs))
    figures: dict[str, _results.Figure] = {}
    for label, stores in results.items():
        print(f"{label} ({SIZES[label] // 1024} KiB), median ms over {args.runs} runs:")
        for step in ("put", "first read", "later read"):
            bucket, local = stores["bucket"][step], stores["local"][step]
            print(f"  {step:<10}  bucket {bucket:8.1f}   local {local:8.1f}")
            figures[f"{label} {step} bucket ms"] = _results.lower(round(bucket, 2), "ms")
    _results.record("media_bucket", figures, extra={"runs": args.runs})


if __name__ == "__main__":
    main()
