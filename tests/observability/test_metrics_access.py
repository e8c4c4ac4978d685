"""Who may read /metrics: loopback clients by default, or whoever holds
ROOST_METRICS_TOKEN when it is set. In-process through the ASGI app with
chosen client addresses (both backends), and through a real ``roost serve``
behind what a reverse proxy sends."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from tests.conftest import Roost
from tests.drills.support import ROOST, ServerProcess, free_port, roost_env

TOKEN = "metrics-" + "m" * 32


def _scrape(roost: Roost, address: str, headers: dict[str, str] | None = None) -> httpx.Response:
    app = roost.client.app

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://roost") as client:
            return await client.get("/metrics", headers=headers or {})

    return roost.run(get)


def test_given_no_metrics_token_when_scraped_then_only_loopback_clients_are_answered(
    roost: Roost,
) -> None:
    for local in ("127.0.0.1", "127.9.8.7", "::1", "::ffff:127.0.0.1"):
        answer = _scrape(roost, local)
        assert answer.status_code == 200, local
        assert "roost_http_request_duration_seconds" in answer.text
    for remote in ("203.0.113.5", "10.1.2.3", "2001:db8::1", "testclient"):
        refused = _scrape(roost, remote)
        assert refused.status_code == 403, remote
        assert "ROOST_METRICS_TOKEN" in refused.json()["error"]
        assert "roost_" not in refused.text


@pytest.mark.settings(metrics_token=TOKEN)
def test_given_a_metrics_token_when_scraped_then_only_that_bearer_token_is_answered(
    roost: Roost,
) -> None:
    assert _scrape(roost, "203.0.113.5", {"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    for headers in ({}, {"Authorization": "Bearer " + TOKEN[:-1]}, {"Authorization": TOKEN}):
        for address in ("127.0.0.1", "203.0.113.5"):
            refused = _scrape(roost, address, headers)
            assert refused.status_code == 401, (address, headers)
            assert refused.headers["www-authenticate"].startswith("Bearer")
            assert "roost_" not in refused.text


def test_given_a_real_server_behind_a_proxy_when_scraped_then_remote_clients_are_refused(
    tmp_path: Path,
) -> None:
    server = ServerProcess(
        roost_env(data_dir=str(tmp_path / "a"), secret_key="a" * 40), tmp_path / "a.log"
    )
    try:
        assert httpx.get(server.url + "/metrics", timeout=10).status_code == 200
        # A reverse proxy on this machine names the real client; uvicorn trusts
        # it (FORWARDED_ALLOW_IPS defaults to loopback), so the client is remote.
        relayed = httpx.get(
            server.url + "/metrics", headers={"X-Forwarded-For": "203.0.113.7"}, timeout=10
        )
        assert relayed.status_code == 403
    finally:
        server.stop()
    env = roost_env(data_dir=str(tmp_path / "b"), secret_key="b" * 40, metrics_token=TOKEN)
    server = ServerProcess(env, tmp_path / "b.log")
    try:
        assert httpx.get(server.url + "/metrics", timeout=10).status_code == 401
        scraped = httpx.get(
            server.url + "/metrics",
            headers={"Authorization": f"Bearer {TOKEN}", "X-Forwarded-For": "203.0.113.7"},
            timeout=10,
        )
        assert scraped.status_code == 200 and "roost_password_attempts_total" in scraped.text
    finally:
        server.stop()


def test_given_a_short_metrics_token_when_serving_then_it_fails_naming_the_variable_not_the_value(
    tmp_path: Path,
) -> None:
    env = roost_env(data_dir=str(tmp_path / "data"), metrics_token="short-secret")
    done = subprocess.run(
        [str(ROOST), "serve", "--port", str(free_port())],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "ROOST_METRICS_TOKEN" in done.stderr and "short-secret" not in done.stderr
    assert "Traceback" not in done.stderr
