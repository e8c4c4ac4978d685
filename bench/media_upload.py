"""Uploading a 12-megapixel phone photo, over HTTP, to a running server.

    .venv/bin/python -m bench.media_upload [--runs 7]

Makes a 4000x3000 JPEG the way a phone writes one (detail and sensor noise,
EXIF with GPS, rotated by its orientation tag), starts ``roost serve`` on
127.0.0.1 with a fresh embedded data directory, and times
``POST /api/v2/media`` with it: the request as an app sends it, through
recognising the file, decoding, turning upright, resizing to 1920 px, the
preview, the blurhash and storing both files. Also times the processing
alone in this process, so the printed share says how much of the request is
the image work and how much is HTTP, parsing the form and the database.
Target: median upload under 1.5 s. Exits 1 if an upload failed.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from PIL import Image

from bench import _results, _seed, _server
from roost.config import load_settings
from roost.db.engine import Database
from roost.domain.accounts import passwords
from roost.domain.accounts.actions import NewAccount, do_create_account
from roost.domain.media.actions import prepare_upload
from roost.domain.oauth.actions import do_issue_token
from roost.domain.oauth.scopes import parse as parse_scopes
from roost.media.store import LocalMediaStore
from roost.process import prepare_process

TARGET_S = 1.5
SIZE = (4000, 3000)


def phone_photo() -> bytes:
    """A 12 MP JPEG at a phone's quality, with EXIF (GPS, orientation 6)."""
    width, height = SIZE
    detail = Image.effect_mandelbrot(SIZE, (-2.2, -1.2, 1.0, 1.2), 80)
    noise = Image.effect_noise(SIZE, 24)
    rgb = Image.merge(
        "RGB",
        (
            Image.blend(detail, noise, 0.3),
            Image.blend(detail.rotate(180), noise, 0.3),
            Image.blend(detail.transpose(Image.Transpose.FLIP_LEFT_RIGHT), noise, 0.3),
        ),
    )
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    out = io.BytesIO()
    rgb.save(out, "JPEG", quality=92, exif=exif)
    assert (width, height) == rgb.size
    return out.getvalue()


def _multipart(data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="description"\r\n\r\n'
        "A benchmark photo\r\n"
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="IMG_0001.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    body = head + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def _post(url: str, body: bytes, content_type: str, token: str) -> tuple[float, int]:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": content_type, "Authorization": f"Bearer {token}"},
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return time.perf_counter() - started, status


def _uploader_token(data_dir: Path) -> str:
    """A fresh database with one account and its token, made by the domain actions."""
    _seed.migrate(data_dir)

    async def body() -> str:
        settings = load_settings(data_dir=data_dir, database_url="", domain="localhost")
        prepare_process(settings)
        db = Database(settings)
        try:
            async with db.write() as tx:
                account_id = await do_create_account(
                    tx, NewAccount("photographer", "photo@example.org", "a long enough password")
                )
                issued = await do_issue_token(tx, account_id, None, parse_scopes("read write"))
        finally:
            await db.dispose()
        return issued.token

    passwords.use_fast_hashing_for_tests()
    return asyncio.run(body())


class _InProcess:
    """The same processing with no HTTP around it, timed between the uploads so
    both see the same machine (a busy neighbour slows both alike)."""

    def __init__(self, scratch: Path) -> None:
        self.settings = load_settings(data_dir=scratch / "in-process", secret_key="b" * 40)
        prepare_process(self.settings)
        self.store = LocalMediaStore(scratch / "in-process-media")
        self.loop = asyncio.new_event_loop()

    def time(self, data: bytes) -> float:
        started = time.perf_counter()
        self.loop.run_until_complete(
            prepare_upload(self.store, self.settings, io.BytesIO(data), len(data))
        )
        return time.perf_counter() - started

    def close(self) -> None:
        self.loop.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)

    data = phone_photo()
    body, content_type = _multipart(data)
    print(f"photo: {SIZE[0]}x{SIZE[1]} JPEG, {len(data) / 1_000_000:.1f} MB, EXIF with GPS")
    with tempfile.TemporaryDirectory(prefix="roost-bench-") as scratch:
        data_dir = Path(scratch) / "data"
        token = _uploader_token(data_dir)
        in_process = _InProcess(Path(scratch))
        with _server.running(data_dir) as server:
            upload_url = server.base + "/api/v2/media"
            _post(upload_url, body, content_type, token)  # warm up
            in_process.time(data)
            uploads, processing, failures = [], [], 0
            for _ in range(args.runs):
                seconds, status = _post(upload_url, body, content_type, token)
                uploads.append(seconds)
                failures += status != 200
                processing.append(in_process.time(data))
        in_process.close()
    upload_s = statistics.median(uploads)
    processing_s = statistics.median(processing)
    print(f"\n{'measured (median of ' + str(args.runs) + ')':<40}{'seconds':>10}")
    print(f"{'POST /api/v2/media, 12 MP JPEG':<40}{upload_s:>10.3f}")
    print(f"{'  processing alone (in process)':<40}{processing_s:>10.3f}")
    print(f"\nprocessing / upload: {processing_s / upload_s:.0%}")
    print(f"upload / target ({TARGET_S} s): {upload_s / TARGET_S:.2f}")
    verdict = "met" if upload_s < TARGET_S else "MISSED"
    print(f"target: upload under {TARGET_S} s: {verdict}")
    print(json.dumps({"upload_s": round(upload_s, 3), "processing_s": round(processing_s, 3)}))
    if failures:
        print(f"{failures} uploads failed", file=sys.stderr)
        return 1
    _results.record(
        "media_upload",
        {
            "upload_median_s": _results.lower(upload_s, "s"),
            "processing_median_s": _results.lower(processing_s, "s"),
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
