"""Drill (threats 1, 11): the media volume fills up.

The floor is set just under today's free space and a real file fills the
volume past it: uploads answer 507 with a message that says why, text posts
still commit, `roost doctor` fails the free-space check and names media as
what grew, /metrics counts the refusals. Removing the file lets uploads in.
The database's own volume filling up is test_database_disk_full.py.
"""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from roost.app import create_app
from roost.clock import utcnow
from roost.config import Settings
from roost.media.store import media_root
from roost.ops import disk
from roost.ops.doctor import FAIL, OK, Check, check_disk, check_free_space
from roost.services import Services, build_services
from tests.conftest import Roost

pytestmark = pytest.mark.slow

MIB = 2**20
# Other processes write to the same disk while the drill runs: the floor sits
# MARGIN under the free space measured, and the filler takes twice that.
MARGIN = 512 * MIB


def _fill(path: Path, size: int) -> None:
    with path.open("wb") as out:
        try:
            os.posix_fallocate(out.fileno(), 0, size)
        except OSError:  # a file system without fallocate: write the bytes
            block = b"\x00" * MIB
            for _ in range(size // MIB):
                out.write(block)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 120, 200)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def near_full(settings: Settings) -> Iterator[Roost]:
    root = media_root(settings)
    root.mkdir(parents=True, exist_ok=True)
    floor_mb = (disk.space(root).free - MARGIN) // MIB
    test_settings = settings.model_copy(
        update={
            "run_jobs_in_process": False,
            "media_min_free_mb": floor_mb,
            "media_min_free_percent": 0.0,
        }
    )
    # Scraped as Prometheus on this machine would: /metrics answers loopback.
    with TestClient(create_app(test_settings), client=("127.0.0.1", 50000)) as client:
        yield Roost(client, test_settings)


def _doctor(settings: Settings, probe: Callable[[Services], Awaitable[Check]]) -> Check:
    async def run() -> Check:
        svc = build_services(settings)
        try:
            return await probe(svc)
        finally:
            await svc.close()

    return asyncio.run(run())


def _refusals(client: TestClient) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("roost_uploads_refused_low_disk_total "):
            return float(line.split()[1])
    raise AssertionError("the refusal counter is not exported")


def test_given_the_media_volume_filled_to_the_floor_then_uploads_get_507_and_text_posts_commit(
    near_full: Roost,
) -> None:
    settings = near_full.settings
    alice = near_full.account("alice")
    assert disk.media_space_problem(settings) is None
    # What the disk looked like two hours ago, for doctor's growth figures.
    disk.record_sample(settings, utcnow() - timedelta(hours=2))

    refusals_before = _refusals(near_full.client)
    filler = media_root(settings) / "filler.bin"
    _fill(filler, 2 * MARGIN)
    try:
        refused = alice.post("/api/v2/media", files={"file": ("a.png", _png(), "image/png")})
        assert refused.status_code == 507
        assert "low on storage" in refused.json()["error"]
        assert "Text posts still work" in refused.json()["error"]

        posted = alice.post_status("the disk is full but words still fit")
        assert near_full.client.get(f"/api/v1/statuses/{posted['id']}").status_code == 200

        free = _doctor(settings, check_free_space)
        assert free.status == FAIL and "uploads are refused" in free.detail
        grew = _doctor(settings, check_disk)
        assert "fastest growing: media" in grew.detail

        assert _refusals(near_full.client) == refusals_before + 1
        assert 'roost_store_bytes{store="media"}' in near_full.client.get("/metrics").text
    finally:
        filler.unlink()

    assert disk.media_space_problem(settings) is None
    assert _doctor(settings, check_free_space).status == OK
    again = alice.post("/api/v2/media", files={"file": ("a.png", _png(), "image/png")})
    assert again.status_code != 507, again.text
