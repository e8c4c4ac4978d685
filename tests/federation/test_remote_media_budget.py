"""Other servers' media files cached here under a budget: the least recently
used files beyond it (or unused past the retention) are removed, never
their rows nor any local file, and the first request for a removed one
fetches it again from its server (screened again against the known-image
lists), or answers 404 when that server no longer has it. mallory's server
is a real HTTP server of the test's own (tests/federation/_peer_hosts.py)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from roost.clock import utcnow
from roost.db.tables import media_attachments
from roost.domain.federation import remote_media, upkeep
from roost.media.store import media_store
from tests.conftest import Roost, User
from tests.federation._peer_hosts import PeerHost, peer_host
from tests.federation.peers import PUBLIC
from tests.federation.test_received import _follow_mallory, _note
from tests.known_images import pictures
from tests.known_images.support import import_list, quarantine_rows

pytestmark = pytest.mark.settings(federation_allow_insecure=True)
__all__ = ["peer_host"]


def _picture_note(peer: PeerHost, n: int) -> dict[str, Any]:
    url = f"{peer.base}/media/{n}.png"
    attachment = {"type": "Document", "mediaType": "image/png", "url": url}
    return _note(peer, n, to=[PUBLIC], attachment=[attachment])


def _three_pictures(roost: Roost, peer: PeerHost, alice: User) -> dict[int, dict[str, Any]]:
    """mallory posts three pictures, each fetched here; by note number."""
    _follow_mallory(roost, peer, alice)
    for n in (1, 2, 3):
        peer.files[f"/media/{n}.png"] = pictures.png(n + 2)
        peer.send(roost, _picture_note(peer, n))
    posts = {p["uri"]: p for p in alice.get("/api/v1/timelines/home").json()}
    return {n: posts[f"{peer.uri}/statuses/{n}"]["media_attachments"][0] for n in (1, 2, 3)}


def _rows(roost: Roost) -> dict[int, Any]:
    async def read() -> dict[int, Any]:
        async with roost.db.read() as conn:
            found = await conn.execute(select(media_attachments))
            return {int(r.id): r for r in found}

    return roost.run(read)


def _used(roost: Roost, media_id: str, days_ago: float) -> None:
    async def write() -> None:
        async with roost.db.write() as tx:
            await tx.execute(
                update(media_attachments)
                .where(media_attachments.c.id == int(media_id))
                .values(remote_used_at=utcnow() - timedelta(days=days_ago))
            )

    roost.run(write)


def _prune(roost: Roost, **settings: Any) -> remote_media.Pruned:
    changed = roost.settings.model_copy(update=settings)

    async def run() -> remote_media.Pruned:
        return await remote_media.prune(roost.db, changed, media_store(changed))

    return roost.run(run)


def _path(roost: Roost, key: str) -> Path:
    return roost.settings.data_dir / "media" / key


def _get(roost: Roost, url: str) -> Any:
    return roost.client.get(url.removeprefix(roost.settings.base_url), follow_redirects=True)


def test_given_remote_files_over_the_budget_then_the_least_recently_used_go_and_come_back(
    roost: Roost, peer_host: PeerHost
) -> None:
    alice = roost.account("alice")
    uploaded = alice.post(
        "/api/v2/media", files={"file": ("mine.png", pictures.png(9), "image/png")}
    ).json()
    shown = _three_pictures(roost, peer_host, alice)
    rows = _rows(roost)
    local_key = rows[int(uploaded["id"])].file_key
    sizes = {n: int(rows[int(shown[n]["id"])].file_size) for n in shown}
    assert all(sizes.values())
    used = roost.run(lambda: remote_media.usage(roost.db, roost.settings))
    assert (used.files, used.bytes, used.pruned) == (3, sum(sizes.values()), 0)
    # Last used: 2 longest ago, then 1, then 3 (the local upload, longest of all).
    _used(roost, shown[2]["id"], 3)
    _used(roost, shown[1]["id"], 2)
    _used(roost, shown[3]["id"], 1)

    # A budget that holds two of them: the least recently used goes.
    done = _prune(roost, remote_media_budget=sizes[1] + sizes[3])
    assert (done.files, done.bytes) == (1, sizes[2])
    rows = _rows(roost)
    gone = rows[int(shown[2]["id"])]
    assert gone.remote_pruned_at is not None and not _path(roost, gone.file_key).exists()
    for n in (1, 3):
        assert _path(roost, rows[int(shown[n]["id"])].file_key).exists()
    assert _path(roost, local_key).exists()  # local media are never touched
    used = roost.run(lambda: remote_media.usage(roost.db, roost.settings))
    assert (used.files, used.bytes, used.pruned) == (2, sizes[1] + sizes[3], 1)
    # Within the budget now: pruning again removes nothing.
    assert _prune(roost, remote_media_budget=sizes[1] + sizes[3]).files == 0

    # The post still shows it at its address here; asked for, it is fetched again.
    [post] = [p for p in alice.get("/api/v1/timelines/home").json() if p["media_attachments"]
              and p["media_attachments"][0]["id"] == shown[2]["id"]]  # fmt: skip
    assert post["media_attachments"][0]["url"] == shown[2]["url"]
    before = peer_host.gets("/media/2.png")
    again = _get(roost, shown[2]["url"])
    assert again.status_code == 200 and again.content.startswith(b"\x89PNG")
    assert peer_host.gets("/media/2.png") == before + 1
    back = _rows(roost)[int(shown[2]["id"])]
    assert back.remote_pruned_at is None and _path(roost, back.file_key).exists()
    assert back.remote_used_at > utcnow() - timedelta(minutes=1)
    # Served from here from then on.
    assert _get(roost, shown[2]["url"]).status_code == 200
    assert peer_host.gets("/media/2.png") == before + 1


def test_given_a_pruned_file_when_its_server_lost_it_or_it_is_listed_then_a_clear_answer(
    roost: Roost, peer_host: PeerHost
) -> None:
    alice = roost.account("alice")
    shown = _three_pictures(roost, peer_host, alice)
    for n, days in ((1, 30), (2, 20), (3, 0)):
        _used(roost, shown[n]["id"], days)
    # Unused for longer than the retention: both old ones go, the recent one stays.
    done = _prune(roost, remote_media_retention_days=7)
    assert done.files == 2
    assert _rows(roost)[int(shown[3]["id"])].remote_pruned_at is None

    # Its server no longer has the first: 404, said plainly, nothing stored.
    del peer_host.files["/media/1.png"]
    lost = _get(roost, shown[1]["url"])
    assert lost.status_code == 404
    assert lost.json()["error"] == "The file is no longer on its server"
    assert _rows(roost)[int(shown[1]["id"])].remote_pruned_at is not None

    # The second came onto a known-image list meanwhile: fetched again, it is
    # screened as at first, quarantined and shown no more.
    import_list(roost, "hotline", pictures.pdq_hex(pictures.png(4)))
    listed = _get(roost, shown[2]["url"])
    assert listed.status_code == 404
    assert _rows(roost)[int(shown[2]["id"])].state == "refused"
    [row] = quarantine_rows(roost)
    assert row.origin == "remote"

    # Its server away: 503, try again later.
    peer_host.stop()
    _used(roost, shown[3]["id"], 30)
    assert _prune(roost, remote_media_retention_days=7).files == 1
    away = _get(roost, shown[3]["url"])
    assert away.status_code == 503


@pytest.mark.settings(federation_allow_insecure=True, remote_media_budget=1)
def test_given_a_budget_then_the_periodic_upkeep_prunes(roost: Roost, peer_host: PeerHost) -> None:
    from roost.db.tables import jobs

    alice = roost.account("alice")
    shown = _three_pictures(roost, peer_host, alice)

    async def queued() -> int:
        async with roost.db.read() as conn:
            found = await conn.execute(select(jobs.c.id).where(jobs.c.kind == "federation.upkeep"))
            return len(list(found))

    # Queued by every process that runs jobs, each interval: one at a time.
    roost.run(lambda: upkeep.ensure_upkeep(roost.db))
    roost.run(lambda: upkeep.ensure_upkeep(roost.db))
    assert roost.run(queued) == 1
    roost.drain_jobs()
    rows = _rows(roost)
    assert all(rows[int(shown[n]["id"])].remote_pruned_at is not None for n in shown)
    assert roost.run(queued) == 0


def test_given_a_process_that_runs_jobs_then_it_queues_the_upkeep_once_per_interval(
    roost: Roost,
) -> None:
    import asyncio
    import contextlib

    from roost.db.tables import jobs

    async def run_for_a_moment() -> int:
        task = asyncio.create_task(upkeep.keep_upkeep(roost.db, roost.settings))
        await asyncio.sleep(0.5)
        second = asyncio.create_task(upkeep.keep_upkeep(roost.db, roost.settings))
        await asyncio.sleep(0.5)
        for each in (task, second):
            each.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await each
        async with roost.db.read() as conn:
            found = await conn.execute(select(jobs.c.id).where(jobs.c.kind == "federation.upkeep"))
            return len(list(found))

    # Two processes at once: one queued run between them.
    assert roost.run(run_for_a_moment) == 1
    roost.drain_jobs()
