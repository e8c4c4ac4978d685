"""Upload quotas (roost/domain/media/quotas.py): bytes per account per day
(429 with Retry-After past it), the instance's media budget (507, text posts
go on), nothing kept for a refused upload, and no overshoot under
concurrency."""

from __future__ import annotations

import asyncio
import os

import pytest
from sqlalchemy import func, select, update

from roost.db.tables import media_attachments
from roost.domain.media import quotas
from roost.errors import RateLimited
from roost.media.store import media_root
from tests.conftest import Roost, User
from tests.media import samples

IMAGE = samples.png(64, 48)


def _upload(user: User, data: bytes = IMAGE) -> object:
    return user.post("/api/v2/media", files={"file": ("a.png", data, "image/png")})


def _rows(roost: Roost) -> int:
    async def body() -> int:
        async with roost.db.read() as conn:
            found = await conn.execute(select(func.count()).select_from(media_attachments))
            return int(found.scalar_one())

    return roost.run(body)


def _files(roost: Roost) -> set[str]:
    root = media_root(roost.settings)
    return {
        os.path.relpath(os.path.join(d, f), root)
        for d, _, names in os.walk(root)
        for f in names
        if ".incoming" not in d
    }


@pytest.mark.settings(upload_quota_bytes_per_day=len(IMAGE) * 2 + 10)
def test_given_the_daily_quota_spent_then_429_and_nothing_is_kept(roost: Roost) -> None:
    alice = roost.account("alice")
    bob = roost.account("bob")
    # A refused upload (not an image) costs no quota.
    assert _upload(alice, b"not an image at all" * 10).status_code == 422  # type: ignore[attr-defined]
    assert roost.run(lambda: quotas.uploaded_today(roost.db, int(alice.id))) == 0
    assert _upload(alice).status_code == 200  # type: ignore[attr-defined]
    assert _upload(alice).status_code == 200  # type: ignore[attr-defined]
    files = _files(roost)
    refused = _upload(alice)
    assert refused.status_code == 429  # type: ignore[attr-defined]
    assert "Daily upload quota" in refused.json()["error"]  # type: ignore[attr-defined]
    assert 1 <= int(refused.headers["retry-after"]) <= 86401  # type: ignore[attr-defined]
    assert _rows(roost) == 2
    assert _files(roost) == files
    assert roost.run(lambda: quotas.uploaded_today(roost.db, int(alice.id))) == 2 * len(IMAGE)
    # Another account has its own quota; posting text goes on.
    assert _upload(bob).status_code == 200  # type: ignore[attr-defined]
    assert alice.post("/api/v1/statuses", json={"status": "words"}).status_code == 200


@pytest.mark.settings(upload_quota_bytes_per_day=0)
def test_given_no_quota_then_uploads_are_not_counted(roost: Roost) -> None:
    alice = roost.account("alice")
    for _ in range(3):
        assert _upload(alice).status_code == 200  # type: ignore[attr-defined]
    assert roost.run(lambda: quotas.uploaded_today(roost.db, int(alice.id))) == 0


@pytest.mark.settings(media_budget_bytes=len(IMAGE) + 10)
def test_given_the_media_budget_spent_then_507_and_text_posts_still_work(roost: Roost) -> None:
    alice = roost.account("alice")
    assert _upload(alice).status_code == 200  # type: ignore[attr-defined]
    assert roost.run(lambda: quotas.media_bytes(roost.db)) > 10
    files = _files(roost)
    refused = _upload(alice)
    assert refused.status_code == 507  # type: ignore[attr-defined]
    assert "no room for more media" in refused.json()["error"]  # type: ignore[attr-defined]
    assert _rows(roost) == 1
    assert _files(roost) == files
    # A refusal for the budget costs no quota.
    assert roost.run(lambda: quotas.uploaded_today(roost.db, int(alice.id))) == len(IMAGE)
    assert alice.post("/api/v1/statuses", json={"status": "words"}).status_code == 200


@pytest.mark.settings(media_budget_bytes=len(IMAGE) * 2 + 10)
def test_given_files_cached_from_other_servers_then_they_do_not_spend_the_local_budget(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    assert _upload(alice).status_code == 200  # type: ignore[attr-defined]

    async def as_remote_cache() -> None:
        # The row a fetched remote attachment leaves: its server's address
        # and a file far larger than the local budget.
        async with roost.db.write() as tx:
            await tx.execute(
                update(media_attachments).values(
                    remote_url="https://elsewhere.example/media/big.png", file_size=10**9
                )
            )

    roost.run(as_remote_cache)
    assert roost.run(lambda: quotas.media_bytes(roost.db)) == 0
    assert _upload(alice).status_code == 200  # type: ignore[attr-defined]
    assert _upload(alice).status_code == 200  # type: ignore[attr-defined]
    assert _upload(alice).status_code == 507  # type: ignore[attr-defined]


@pytest.mark.settings(upload_quota_bytes_per_day=1000)
def test_given_a_burst_of_concurrent_uploads_then_the_quota_is_never_overshot(
    roost: Roost,
) -> None:
    alice = roost.account("alice")

    async def one() -> bool:
        try:
            async with quotas.upload_allowance(roost.db, roost.settings, int(alice.id), 300):
                await asyncio.sleep(0.05)
            return True
        except RateLimited:
            return False

    async def burst() -> list[bool]:
        return list(await asyncio.gather(*(one() for _ in range(10))))

    assert roost.run(burst).count(True) == 3
    assert roost.run(lambda: quotas.uploaded_today(roost.db, int(alice.id))) == 900

    async def failing() -> None:
        async with quotas.upload_allowance(roost.db, roost.settings, int(alice.id), 50):
            raise ValueError("processing failed")

    with pytest.raises(ValueError):
        roost.run(failing)
    assert roost.run(lambda: quotas.uploaded_today(roost.db, int(alice.id))) == 900
