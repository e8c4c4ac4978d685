"""/livez, /readyz and /metrics, and log records that carry the request id."""

from __future__ import annotations

import json
import logging
import shutil
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from roost.clock import utcnow
from roost.config import LogFormat
from roost.db.tables import jobs
from roost.observability.logs import configure_logging
from tests.conftest import Roost


def test_given_a_healthy_server_when_asked_then_live_and_ready_name_each_check(
    roost: Roost,
) -> None:
    assert roost.client.get("/livez").json() == {"status": "ok"}
    ready = roost.client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready"
    expected = {"database", "jobs", "media"} | ({"redis"} if roost.settings.redis_url else set())
    assert set(body["checks"]) == expected
    assert all(check["ok"] for check in body["checks"].values())
    assert "degraded" not in body


@pytest.mark.settings(metrics_token="scrape" * 4)
def test_given_the_media_directory_gone_when_asked_then_ready_but_degraded_naming_media(
    roost: Roost,
) -> None:
    media = roost.settings.data_dir / "media"
    if media.exists():
        shutil.rmtree(media)
    media.write_text("not a directory")
    ready = roost.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["degraded"] == ["media"]
    assert "not a writable directory" in ready.json()["checks"]["media"]["error"]
    text = roost.client.get("/metrics", headers=SCRAPER).text
    assert 'roost_dependency_up{name="media"} 0.0' in text
    assert 'roost_dependency_up{name="database"} 1.0' in text
    media.unlink()
    media.mkdir()
    text = roost.client.get("/metrics", headers=SCRAPER).text
    assert 'roost_dependency_up{name="media"} 1.0' in text


@pytest.mark.settings(metrics_token="scrape" * 4)
def test_given_a_started_server_when_scraped_then_start_up_and_backup_times_are_exported(
    roost: Roost,
) -> None:
    text = roost.client.get("/metrics", headers=SCRAPER).text
    started = _sample(text, "roost_start_time_seconds")
    assert abs(started - time.time()) < 600
    assert 0 < _sample(text, "roost_startup_duration_seconds") < 600
    assert _sample(text, "roost_backup_last_success_timestamp_seconds") == 0.0
    assert _sample(text, "roost_backup_last_verified_timestamp_seconds") == 0.0
    backups = roost.settings.data_dir / "backups"
    backups.mkdir(parents=True, exist_ok=True)
    (backups / "roost-backup-20261201T030000Z.tar").write_bytes(b"x")
    text = roost.client.get("/metrics", headers=SCRAPER).text
    taken = datetime(2026, 12, 1, 3, 0, tzinfo=UTC).timestamp()
    assert _sample(text, "roost_backup_last_success_timestamp_seconds") == taken


def _sample(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} is not in the scrape")


def test_given_a_job_waiting_too_long_when_asked_then_not_ready_names_jobs(roost: Roost) -> None:
    alice = roost.account("alice")
    alice.post_status("leaves a job behind")

    async def age() -> None:
        async with roost.db.write() as tx:
            await tx.execute(update(jobs).values(run_at=utcnow() - timedelta(hours=1)))

    roost.run(age)
    ready = roost.client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["failed"] == ["jobs"]
    assert ready.json()["checks"]["jobs"]["oldest_due_seconds"] >= 3600
    roost.drain_jobs()
    assert roost.client.get("/readyz").status_code == 200


SCRAPER = {"Authorization": "Bearer " + "scrape" * 4}


@pytest.mark.settings(metrics_token="scrape" * 4)
def test_given_traffic_when_scraped_then_metrics_name_routes_jobs_and_the_pool(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    alice.follow(bob)
    bob.post_status("measured")
    for _ in range(3):
        alice.get("/api/v1/timelines/home")
    roost.client.get("/api/v1/statuses/1")  # a 404 on a templated route
    before_drain = roost.client.get("/metrics", headers=SCRAPER).text
    assert "roost_jobs_queued 0.0" not in before_drain
    roost.drain_jobs()
    text = roost.client.get("/metrics", headers=SCRAPER).text
    assert (
        'roost_http_request_duration_seconds_count{method="GET",'
        'route="/api/v1/timelines/home",status="2xx"} 3.0'
    ) in text
    assert 'route="/api/v1/statuses/{status_id}",status="4xx"' in text
    assert "roost_jobs_queued 0.0" in text
    assert "roost_job_oldest_age_seconds 0.0" in text
    assert 'roost_jobs_run_total{kind="status.published"} 1.0' in text
    assert "roost_job_failures_total" in text
    if roost.settings.is_sqlite:
        assert "roost_db_pool_connections" in text
    else:
        assert 'roost_db_pool_connections{state="size"}' in text
    if roost.settings.redis_url:
        assert 'roost_timeline_cache_reads_total{result="hit"}' in text
        assert "roost_timeline_rebuilds_total 1.0" in text
        assert "roost_redis_up 1.0" in text


def test_given_json_logs_when_a_request_logs_then_the_record_carries_its_request_id(
    roost: Roost, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_logging("info", LogFormat.JSON)
    try:
        response = roost.client.get("/livez", headers={"X-Request-Id": "drill-42"})
    finally:
        root.handlers, level = saved
        root.setLevel(level)
    assert response.headers["x-request-id"] == "drill-42"
    records = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    access = [r for r in records if r.get("logger") == "roost.access"]
    assert access, records
    assert access[-1]["request_id"] == "drill-42"
    assert access[-1]["route"] == "/livez" and access[-1]["status"] == 200
