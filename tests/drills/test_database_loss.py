"""Drill: the connection to PostgreSQL dies in the middle of a request.

A TCP proxy sits between the server and PostgreSQL. Cut at the very moment the
server sends COMMIT, the post must not exist afterwards (the transaction died
with the connection) and the client must get 503 with Retry-After, not a 500
or a hang. With the database unreachable, /readyz names it; when it is back,
the same server recovers on its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from sqlalchemy import func, select

from roost.db.tables import jobs, statuses
from tests.drills.conftest import Stack
from tests.drills.support import FaultyProxy

pytestmark = [pytest.mark.slow, pytest.mark.backend]


@pytest.fixture
def proxy(stack: Stack) -> Iterator[FaultyProxy]:
    faulty = FaultyProxy(urlsplit(stack.settings.database_url).port or 5432)
    yield faulty
    faulty.close()


def _through(url: str, port: int) -> str:
    parts = urlsplit(url)
    host = f"{parts.username}@" if parts.username else ""
    return urlunsplit(parts._replace(netloc=f"{host}127.0.0.1:{port}"))


def _count(stack: Stack) -> tuple[int, int]:
    async def read() -> tuple[int, int]:
        async with stack.db.read() as conn:
            posts = (await conn.execute(select(func.count()).select_from(statuses))).scalar_one()
            published = (
                await conn.execute(
                    select(func.count()).select_from(jobs).where(jobs.c.kind == "status.published")
                )
            ).scalar_one()
            return int(posts), int(published)

    result: tuple[int, int] = stack.run(read)
    return result


def test_given_a_post_in_flight_when_the_database_link_dies_at_commit_then_503_and_no_post(
    stack: Stack, proxy: FaultyProxy
) -> None:
    alice = stack.accounts("alice", 1)[0]
    headers = {"Authorization": f"Bearer {stack.token(alice)}"}
    _, url = stack.server("server", database_url=_through(stack.settings.database_url, proxy.port))
    with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
        assert http.get("/api/v1/timelines/home").status_code == 200
        proxy.cut_before(b"COMMIT")
        lost = http.post("/api/v1/statuses", json={"status": "lost with the link"})
        assert proxy.cuts == 1
        assert lost.status_code == 503, lost.text
        assert int(lost.headers["retry-after"]) > 0
        assert _count(stack) == (0, 0)  # neither the post nor its jobs: nothing half-written

        proxy.refuse()
        ready = http.get("/readyz")
        assert ready.status_code == 503
        assert "database" in ready.json()["failed"]
        refused = http.post("/api/v1/statuses", json={"status": "while it is down"})
        assert refused.status_code == 503 and "retry-after" in refused.headers

        proxy.restore()
        assert http.get("/readyz").status_code == 200
        kept = http.post("/api/v1/statuses", json={"status": "after"})
        assert kept.status_code == 200, kept.text
    assert _count(stack) == (1, 1)
