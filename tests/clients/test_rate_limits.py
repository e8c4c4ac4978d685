"""Mastodon.py reads Roost's rate-limit headers as it reads Mastodon's.

A ``roost serve`` of its own (the shared live server runs with generous
limits) with three requests per account per window: the client library
follows the remaining count down, takes the ISO 8601 reset time, and raises
its rate-limit error on the 429.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from mastodon import Mastodon, MastodonRatelimitError

from tests.drills.support import ServerProcess, roost_env


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    env = roost_env(
        data_dir=str(tmp_path / "data"),
        secret_key="m" * 40,
        rate_limit_requests="3",
        rate_limit_window_s="300",
    )
    started = ServerProcess(env, tmp_path / "server.log", log_level="warning")
    try:
        yield started
    finally:
        started.stop()


def test_given_mastodon_py_when_it_reaches_the_limit_then_it_sees_the_headers_and_the_429(
    server: ServerProcess,
) -> None:
    server.cli("accounts", "create", "pacer", "--email", "p@example.org", "--password", "x" * 16)
    token = server.cli("tokens", "create", "pacer", "--scopes", "read").strip()
    api = Mastodon(
        access_token=token,
        api_base_url=server.url,
        request_timeout=10,
        ratelimit_method="throw",
        version_check_mode="none",
    )
    seen = []
    for _ in range(3):
        assert api.account_verify_credentials()["username"] == "pacer"
        seen.append(api.ratelimit_remaining)
        assert api.ratelimit_limit == 3
        assert api.ratelimit_reset is not None
        assert 250 < api.ratelimit_reset - time.time() < 330
    assert seen == [2, 1, 0]
    with pytest.raises(MastodonRatelimitError):
        api.account_verify_credentials()
