"""Drill: each dependency stops in turn under a real ``roost serve``.

The test runs its own PostgreSQL (initdb on a spare port), its own
redis-server and its own SMTP server (aiosmtpd), and a ``roost serve`` on
them. It stops Redis, then the SMTP server, then PostgreSQL, one at a time,
bringing each back before the next. Each time: ``/readyz`` names the
dependency (failed for redis and the database, degraded for smtp),
``roost_dependency_up{name=...}`` scraped from ``/metrics`` goes to 0, and the
samples actually scraped, written as a promtool rule test, make
RoostDependencyDown fire for that series and for no other.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import yaml
from aiosmtpd.controller import Controller

from tests.conftest import _skip_or_fail
from tests.drills.support import (
    ROOST,
    PostgresServer,
    RedisServer,
    free_port,
    postgres_bin,
    roost_env,
    wait_for,
)
from tests.observability.promql import RULES, run_promtool
from tests.web.support import Mailbox, start_mailbox

pytestmark = [pytest.mark.slow, pytest.mark.backend]

_SAMPLE = re.compile(r'^roost_dependency_up\{name="(\w+)"\} (\S+)$', re.M)
PAGES = {"database", "redis"}  # the others are tickets (ops/prometheus/roost.rules.yml)
SCRAPES_DOWN = 8  # one a "minute" in the rule test: past the 5 minutes a ticket waits


@dataclass
class Scraper:
    url: str
    history: dict[str, list[float]] = field(default_factory=dict)

    def scrape(self) -> dict[str, float]:
        text = httpx.get(self.url + "/metrics", timeout=30).text
        found = {name: float(value) for name, value in _SAMPLE.findall(text)}
        for name, value in found.items():
            self.history.setdefault(name, []).append(value)
        return found

    def reset(self) -> None:
        self.history.clear()


@dataclass
class Dependencies:
    postgres: PostgresServer
    redis: RedisServer
    mailbox: Mailbox
    smtp: Controller
    url: str
    process: subprocess.Popen[bytes]
    log: Path


def _readyz(url: str) -> tuple[int, dict[str, object]]:
    response = httpx.get(url + "/readyz", timeout=30)
    return response.status_code, response.json()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Dependencies]:
    binaries = postgres_bin()
    if binaries is None:
        _skip_or_fail("PostgreSQL's server binaries are not installed (Debian: postgresql)")
        raise AssertionError("unreachable")
    postgres = PostgresServer(binaries)
    redis_server = RedisServer(tmp_path / "redis")
    mailbox, controller = start_mailbox()
    process = None
    try:
        postgres.start()
        redis_server.start()
        port = free_port()
        env = roost_env(
            data_dir=str(tmp_path / "data"),
            database_url=postgres.url,
            redis_url=redis_server.url,
            secret_key="d" * 40,
            smtp_url=mailbox.url,
            smtp_check_interval_s="0",
            run_jobs_in_process="false",
        )
        log = tmp_path / "serve.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                [str(ROOST), "serve", "--port", str(port), "--log-level", "warning"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                return httpx.get(url + "/livez", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(up, 60, "roost serve on the test's own dependencies")
        deps = Dependencies(postgres, redis_server, mailbox, controller, url, process, log)
        yield deps
        controller = deps.smtp  # the drill restarts it
    finally:
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        try:
            controller.stop(no_assert=True)
        finally:
            try:
                redis_server.stop()
            finally:
                postgres.remove()


def _restart_smtp(deps: Dependencies) -> None:
    deps.smtp = Controller(deps.mailbox, hostname="127.0.0.1", port=deps.mailbox.port)
    deps.smtp.start()


def _rule_test(history: dict[str, list[float]], down: str, instance: str) -> dict[str, object]:
    """A promtool unit test whose input is the scraped samples, one a minute."""
    length = min(len(values) for values in history.values())
    series = [
        {
            "series": f'roost_dependency_up{{name="{name}",instance="{instance}",job="roost"}}',
            "values": " ".join(str(int(v)) for v in values[:length]),
        }
        for name, values in sorted(history.items())
    ]
    page = down in PAGES
    expected = {
        "exp_labels": {
            "severity": "page" if page else "ticket",
            "name": down,
            "instance": instance,
            "job": "roost",
        },
        "exp_annotations": {
            "summary": f"{instance} cannot {'reach' if page else 'use'} its {down}",
            "description": f"/readyz on {instance} names {down} as "
            f"{'failed' if page else 'degraded'}.",
            "runbook_url": "docs/runbooks/RoostDependencyDown.md",
        },
    }
    return {
        "rule_files": [str(RULES)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": series,
                "alert_rule_test": [
                    {"eval_time": "1m", "alertname": "RoostDependencyDown", "exp_alerts": []},
                    {
                        "eval_time": f"{length - 1}m",
                        "alertname": "RoostDependencyDown",
                        "exp_alerts": [expected],
                    },
                ],
            }
        ],
    }


def _drill(deps: Dependencies, name: str, stop: Callable[[], object], tmp: Path) -> None:
    scraper = Scraper(deps.url)
    for _ in range(3):
        assert all(v == 1.0 for v in scraper.scrape().values()), scraper.history
    assert {"database", "redis", "smtp", "media"} <= set(scraper.history)
    stop()

    def named() -> bool:
        status, body = _readyz(deps.url)
        if name in PAGES:
            return status == 503 and name in body.get("failed", [])  # type: ignore[operator]
        return status == 200 and name in body.get("degraded", [])  # type: ignore[operator]

    wait_for(named, 60, f"/readyz to name {name}")
    for _ in range(SCRAPES_DOWN):
        scraper.scrape()
    assert scraper.history[name][-1] == 0.0, scraper.history
    others = {n: v[-1] for n, v in scraper.history.items() if n != name}
    assert all(v == 1.0 for v in others.values()), others

    instance = deps.url.removeprefix("http://")
    test_file = tmp / f"{name}.rules.test.yml"
    test_file.write_text(yaml.safe_dump(_rule_test(scraper.history, name, instance)))
    result = run_promtool("test", "rules", test_file)
    assert result.returncode == 0, result.stdout + result.stderr


def _ready_again(deps: Dependencies) -> None:
    def ready() -> bool:
        status, body = _readyz(deps.url)
        return status == 200 and "degraded" not in body

    wait_for(ready, 60, "/readyz to be ready again")


def test_given_a_server_when_each_dependency_stops_then_readyz_metric_and_alert_name_it(
    served: Dependencies, tmp_path: Path
) -> None:
    deps = served
    _drill(deps, "redis", deps.redis.stop, tmp_path)
    deps.redis.start()
    _ready_again(deps)

    _drill(deps, "smtp", deps.smtp.stop, tmp_path)
    _restart_smtp(deps)
    _ready_again(deps)

    _drill(deps, "database", deps.postgres.stop, tmp_path)
    deps.postgres.start()
    _ready_again(deps)
    assert deps.process.poll() is None, deps.log.read_text(errors="replace")
