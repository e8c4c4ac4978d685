"""Bearer tokens are cached per process; a change made through this process
still counts on the very next request."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import update

from roost.api import token_cache
from roost.db.tables import accounts, users
from roost.domain.oauth.actions import do_revoke_all_for_account
from tests.conftest import Roost

HOME = "/api/v1/timelines/home"


def test_given_a_token_just_used_when_it_is_revoked_then_the_next_request_is_refused(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    assert alice.get(HOME).status_code == 200
    assert alice.get(HOME).status_code == 200

    async def revoke() -> None:
        async with roost.db.write() as tx:
            await do_revoke_all_for_account(tx, int(alice.id))

    roost.run(revoke)
    assert alice.get(HOME).status_code == 401


def test_given_a_token_just_used_when_its_account_is_suspended_then_it_stops_working(
    roost: Roost,
) -> None:
    bob = roost.account("bob")
    assert bob.get(HOME).status_code == 200

    async def suspend() -> None:
        async with roost.db.write() as tx:
            await tx.execute(
                update(accounts)
                .where(accounts.c.id == int(bob.id))
                .values(suspended_at=datetime.now(UTC))
            )

    roost.run(suspend)
    assert bob.get(HOME).status_code == 401


def test_given_a_token_just_used_when_the_account_loses_approval_then_it_is_refused(
    roost: Roost,
) -> None:
    carol = roost.account("carol")
    assert carol.get(HOME).status_code == 200

    async def unapprove() -> None:
        async with roost.db.write() as tx:
            await tx.execute(
                update(users).where(users.c.account_id == int(carol.id)).values(approved=False)
            )

    roost.run(unapprove)
    assert carol.get(HOME).status_code == 403


def test_given_an_unknown_token_then_every_request_is_refused(roost: Roost) -> None:
    headers = {"Authorization": "Bearer not-a-token"}
    for _ in range(3):
        assert roost.client.get(HOME, headers=headers).status_code == 401


def test_given_many_requests_with_one_token_when_its_entry_expires_then_one_lookup_serves_them(
    roost: Roost, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = roost.account("alice")
    calls = 0
    real = token_cache.viewer_for_token_fast

    async def counted(reader: Any, token: str) -> Any:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)  # a slow database: the others arrive meanwhile
        return await real(reader, token)

    monkeypatch.setattr(token_cache, "viewer_for_token_fast", counted)

    async def burst() -> list[Any]:
        return list(
            await asyncio.gather(
                *(token_cache.viewer_for(roost.db, alice.token) for _ in range(20))
            )
        )

    viewers = roost.run(burst)
    assert calls == 1
    assert {v.account_id for v in viewers} == {int(alice.id)}
