"""Drill: Redis with Sentinel fails over, and Roost follows the new primary.

A primary, a replica and one sentinel of the test's own. Roost is configured
with a redis+sentinel:// URL; after the sentinel promotes the replica, writes
through the same RedisLink reach the new primary without a restart.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from roost.config import load_settings
from roost.observability.metrics import Metrics
from roost.redis_link import RedisLink
from tests.drills.support import free_port, wait_for

pytestmark = [pytest.mark.slow]


def _redis(port: int, directory: Path, *extra: str) -> subprocess.Popen[bytes]:
    directory.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [
            *("redis-server", "--port", str(port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no", "--dir", str(directory)),
            *extra,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _role(port: int) -> str:
    client = redis.Redis(port=port, socket_timeout=2)
    try:
        return str(client.info("replication")["role"])
    except redis.RedisError:
        return "down"
    finally:
        client.close()


def _linked(replica: int) -> bool:
    client = redis.Redis(port=replica, socket_timeout=2)
    try:
        return client.info("replication").get("master_link_status") == "up"
    except redis.RedisError:
        return False
    finally:
        client.close()


def _knows_replica(sentinel: int) -> bool:
    client = redis.Redis(port=sentinel, socket_timeout=2)
    try:
        return bool(client.execute_command("SENTINEL REPLICAS roost"))
    except redis.RedisError:
        return False
    finally:
        client.close()


def _fail_over(sentinel: int) -> bool:
    """Ask for a failover; False while the sentinel has no replica it will promote
    yet (it learns of the replica's state a moment after seeing it)."""
    client = redis.Redis(port=sentinel, socket_timeout=2)
    try:
        client.execute_command("SENTINEL FAILOVER roost")
        return True
    except redis.ResponseError:
        return False
    finally:
        client.close()


@pytest.fixture
def sentinel_setup(tmp_path: Path) -> Iterator[tuple[int, int, int]]:
    primary, replica, sentinel = free_port(), free_port(), free_port()
    config = tmp_path / "sentinel.conf"
    config.write_text(
        f"port {sentinel}\nbind 127.0.0.1\n"
        f"sentinel monitor roost 127.0.0.1 {primary} 1\n"
        "sentinel down-after-milliseconds roost 1000\n"
        "sentinel failover-timeout roost 5000\n"
    )
    processes = [
        _redis(primary, tmp_path / "primary"),
        _redis(replica, tmp_path / "replica", "--replicaof", "127.0.0.1", str(primary)),
    ]
    wait_for(lambda: _linked(replica), 15, "the replica to attach")
    processes.append(
        subprocess.Popen(
            ["redis-server", str(config), "--sentinel"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    )
    wait_for(lambda: _knows_replica(sentinel), 15, "the sentinel to see the replica")
    try:
        yield primary, replica, sentinel
    finally:
        for process in processes:
            process.kill()
            process.wait(timeout=10)


def test_given_a_sentinel_url_when_the_primary_fails_over_then_writes_reach_the_new_one(
    sentinel_setup: tuple[int, int, int], tmp_path: Path
) -> None:
    primary, replica, sentinel = sentinel_setup
    settings = load_settings(
        data_dir=tmp_path / "data",
        secret_key="s" * 40,
        redis_url=f"redis+sentinel://127.0.0.1:{sentinel}/roost/0",
        redis_prefix="sentinel:",
        redis_timeout_ms=5000,
    )

    async def scenario() -> None:
        link = RedisLink(settings, Metrics())
        try:
            await link.client.set("sentinel:before", "1")
            # On the replica too before the failover is asked for.
            assert await link.client.execute_command("WAIT", 1, 2000) == 1
            await asyncio.to_thread(wait_for, lambda: _fail_over(sentinel), 30, "a failover")
            await asyncio.to_thread(
                wait_for, lambda: _role(replica) == "master", 30, "the replica's promotion"
            )
            # Once the old primary has been turned into a replica, a write can
            # only land on the new one.
            await asyncio.to_thread(
                wait_for, lambda: _role(primary) == "slave", 30, "the old primary's demotion"
            )
            for _ in range(100):
                try:
                    await link.client.set("sentinel:after", "2")
                    break
                except redis.RedisError:
                    await asyncio.sleep(0.1)
            assert await link.client.get("sentinel:before") == b"1"
        finally:
            await link.close()

    asyncio.run(scenario())
    promoted = redis.Redis(port=replica)
    try:
        assert promoted.get("sentinel:after") == b"2"
    finally:
        promoted.close()
