"""POST /api/v1/roost/imports and what it lets the owner (and only the owner) see."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select

from roost.db.tables import jobs, notifications, twitter_imports
from roost.importers.twitter import job, phases
from roost.keys.ring import PREFIX
from tests.conftest import Roost, User
from tests.importers.builder import ArchiveBuilder
from tests.importers.conftest import rich_archive


@pytest.fixture(autouse=True)
def patient_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    """A job's turn waits for its whole import, so draining the queue finishes it
    (the test of the default, brief wait is below)."""
    monkeypatch.setattr(job, "WAIT_S", 60.0)


def _upload(user: User, data: bytes, **fields: str) -> Any:
    files = {"archive": ("twitter-2023.zip", data, "application/zip")}
    return user.post("/api/v1/roost/imports", files=files, data=fields)


def _uploads(roost: Roost) -> list[Path]:
    folder = roost.settings.data_dir / "imports"
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_given_an_uploaded_archive_when_the_job_runs_then_polling_shows_it_done(
    roost: Roost, tmp_path: Path
) -> None:
    alice = roost.account("alice")
    data = rich_archive().builder.write_zip(tmp_path / "a.zip").read_bytes()

    queued = _upload(alice, data, include_dms="true", visibility="unlisted")

    assert queued.status_code == 202, queued.text
    body = queued.json()
    assert body["state"] == "queued" and body["options"]["visibility"] == "unlisted"
    assert len(_uploads(roost)) == 1
    roost.drain_jobs()
    done = alice.get(f"/api/v1/roost/imports/{body['id']}").json()
    assert done["state"] == "done", done
    assert done["progress"]["phase"] == "done" and done["progress"]["done"] > 0
    assert done["report"]["counts"]["posts"]["imported"] == 15
    assert done["report"]["counts"]["direct_messages"]["imported"] == 3
    assert _uploads(roost) == []
    statuses = alice.get(f"/api/v1/accounts/{alice.id}/statuses", params={"limit": 40}).json()
    assert len(statuses) == 15
    assert {s["visibility"] for s in statuses} == {"unlisted", "private"}
    assert [i["id"] for i in alice.get("/api/v1/roost/imports").json()] == [body["id"]]


def test_given_someone_elses_import_then_it_is_not_found_and_their_data_not_shown(
    roost: Roost, tmp_path: Path
) -> None:
    alice, mallory = roost.account("alice"), roost.account("mallory")
    data = rich_archive().builder.write_zip(tmp_path / "a.zip").read_bytes()
    queued = _upload(alice, data, include_dms="true").json()
    roost.drain_jobs()

    assert mallory.get(f"/api/v1/roost/imports/{queued['id']}").status_code == 404
    assert mallory.get("/api/v1/roost/imports").json() == []
    assert mallory.get("/api/v1/roost/imports/likes").json() == []
    assert mallory.get("/api/v1/roost/imports/direct_messages").json() == []
    assert roost.client.get("/api/v1/roost/imports/direct_messages").status_code == 401
    owl = alice.get("/api/v1/roost/imports/direct_messages").json()
    assert "A private word about owls" in [m["text"] for m in owl]


def test_given_imported_likes_when_searched_then_matching_ones_come_back(
    roost: Roost, tmp_path: Path
) -> None:
    alice = roost.account("alice")
    _upload(alice, rich_archive().builder.write_zip(tmp_path / "a.zip").read_bytes())
    roost.drain_jobs()

    found = alice.get("/api/v1/roost/imports/likes", params={"q": "KINGFISHERS"}).json()

    assert found == [
        {
            "tweet_id": "555000111",
            "text": "A liked tweet about kingfishers",
            "url": "https://twitter.com/i/web/status/555000111",
        }
    ]
    assert len(alice.get("/api/v1/roost/imports/likes").json()) == 2
    paged = alice.get("/api/v1/roost/imports/likes", params={"limit": 1})
    assert "max_id=555000222" in paged.headers["link"]

    # At rest, the liked tweets are sealed under alice's key (crypto-shredding):
    # the database file and any backup of it hold neither their text nor link.
    async def stored() -> list[tuple[str, str]]:
        async with roost.db.engine.connect() as conn:
            rows = await conn.exec_driver_sql("SELECT text, url FROM twitter_likes")
            return [(r[0], r[1]) for r in rows]

    raw = roost.run(stored)
    assert len(raw) == 2
    assert all(text.startswith(PREFIX) and url.startswith(PREFIX) for text, url in raw)
    assert not any("kingfishers" in text or "555000111" in url for text, url in raw)


def test_given_a_file_that_is_no_zip_then_it_is_refused_at_once_and_not_kept(
    roost: Roost,
) -> None:
    alice = roost.account("alice")

    refused = _upload(alice, b"not a zip at all" * 100)

    assert refused.status_code == 422
    assert "is not a zip file" in refused.json()["error"]
    assert _uploads(roost) == [] and alice.get("/api/v1/roost/imports").json() == []


def test_given_an_upload_over_the_limit_then_it_is_refused_and_nothing_is_left(
    roost: Roost, tmp_path: Path
) -> None:
    alice = roost.account("alice")
    small = roost.settings.model_copy(update={"import_max_upload_bytes": 2048})
    roost.client.app.state.services.settings = small  # type: ignore[attr-defined]
    try:
        refused = _upload(alice, rich_archive().builder.write_zip(tmp_path / "a.zip").read_bytes())
    finally:
        roost.client.app.state.services.settings = roost.settings  # type: ignore[attr-defined]

    assert refused.status_code == 422 and "limit" in refused.json()["error"]
    assert _uploads(roost) == []


def test_given_another_accounts_archive_then_the_job_fails_the_run_with_the_reason(
    roost: Roost, tmp_path: Path
) -> None:
    alice = roost.account("alice")
    other = ArchiveBuilder(username="bob")
    other.tweet("Not alice's")
    queued = _upload(alice, other.write_zip(tmp_path / "b.zip").read_bytes()).json()

    roost.drain_jobs()

    failed = alice.get(f"/api/v1/roost/imports/{queued['id']}").json()
    assert failed["state"] == "failed"
    assert failed["error"].startswith("This archive is @bob's on Twitter, not @alice's")
    assert _uploads(roost) == []

    forced = _upload(alice, other.write_zip(tmp_path / "b.zip").read_bytes(), force="true")
    roost.drain_jobs()
    assert alice.get(f"/api/v1/roost/imports/{forced.json()['id']}").json()["state"] == "done"


def test_given_no_token_or_a_read_only_token_then_uploading_is_refused(
    roost: Roost, tmp_path: Path
) -> None:
    reader = roost.account("reader", scopes="read")
    data = ArchiveBuilder().write_zip(tmp_path / "a.zip").read_bytes()
    files = {"archive": ("a.zip", data, "application/zip")}
    assert roost.client.post("/api/v1/roost/imports", files=files).status_code == 401
    assert _upload(reader, data).status_code == 403


def test_given_an_upload_whose_import_is_gone_then_its_job_removes_the_file(
    roost: Roost, tmp_path: Path
) -> None:
    alice = roost.account("alice")
    queued = _upload(alice, rich_archive().builder.write_zip(tmp_path / "a.zip").read_bytes())
    assert len(_uploads(roost)) == 1

    async def forget() -> None:
        async with roost.db.write() as tx:
            await tx.execute(delete(twitter_imports))

    roost.run(forget)
    roost.drain_jobs()

    assert queued.status_code == 202 and _uploads(roost) == []


def test_given_a_long_import_then_other_jobs_run_while_it_goes_on(
    roost: Roost, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(job, "WAIT_S", 0.0)
    monkeypatch.setattr(job, "RECHECK_S", 0.2)
    gate = threading.Event()
    real_posts = phases.Importer.posts

    async def held_posts(self: phases.Importer) -> None:
        await asyncio.to_thread(gate.wait, 60)  # at work for as long as the test says
        await real_posts(self)

    monkeypatch.setattr(phases.Importer, "posts", held_posts)
    alice, bob = roost.account("alice"), roost.account("bob")
    queued = _upload(alice, rich_archive().builder.write_zip(tmp_path / "a.zip").read_bytes())
    status = f"/api/v1/roost/imports/{queued.json()['id']}"
    runner = roost.client.app.state.job_runner  # type: ignore[attr-defined]

    roost.run(runner.run_once)  # the import starts; its job goes back to the queue
    bob.follow(alice)
    roost.drain_jobs()

    follows = _all(roost, select(notifications.c.type).where(notifications.c.type == "follow"))
    assert len(follows) == 1
    assert alice.get(status).json()["state"] == "running"
    assert "import.twitter" in [r.kind for r in _all(roost, select(jobs.c.kind))]
    gate.set()
    deadline = time.monotonic() + 60
    while "import.twitter" in [r.kind for r in _all(roost, select(jobs.c.kind))]:
        assert time.monotonic() < deadline, "the import's job did not finish"
        roost.run(runner.run_once)
        time.sleep(0.05)
    assert alice.get(status).json()["state"] == "done"


def _all(roost: Roost, query: Any) -> list[Any]:
    async def read() -> list[Any]:
        async with roost.db.read() as conn:
            return list((await conn.execute(query)).all())

    return roost.run(read)
