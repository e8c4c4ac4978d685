"""The attempt limits every password check shares (roost/domain/accounts/sign_in.py),
on both backends: in-process counts (SQLite) and Redis (PostgreSQL + Redis)."""

from __future__ import annotations

from collections.abc import Awaitable

import pytest

from roost.domain.accounts import sign_in as checks
from roost.errors import Forbidden, Invalid, RateLimited, RoostError
from roost.services import Services
from tests.conftest import Roost

RIGHT = "correct horse battery"


def outcome(roost: Roost, attempt: Awaitable[object]) -> str:
    async def run() -> str:
        try:
            await attempt
        except RateLimited:
            return "limited"
        except (Invalid, Forbidden):
            return "wrong"
        except RoostError as error:  # pragma: no cover - shows what went wrong
            return f"unexpected: {error.message}"
        return "ok"

    return roost.run(run)


async def sign_in(svc: Services, login: str, password: str, address: str) -> object:
    return await checks.sign_in(svc.db, svc.password_gate(), login, password, address)


async def confirm_password(svc: Services, account_id: int, password: str, address: str) -> None:
    await checks.confirm_password(svc.db, svc.password_gate(), account_id, password, address)


def services(roost: Roost) -> Services:
    svc: Services = roost.client.app.state.services  # type: ignore[attr-defined]
    return svc


@pytest.mark.settings(sign_in_attempts=3, sign_in_account_attempts=100)
def test_given_a_strangers_failures_when_the_owner_signs_in_elsewhere_then_only_the_stranger_waits(
    roost: Roost,
) -> None:
    roost.account("alice")
    svc = services(roost)
    for _ in range(3):
        assert outcome(roost, sign_in(svc, "alice", "guess", "203.0.113.9")) == "wrong"
    assert outcome(roost, sign_in(svc, "alice", RIGHT, "203.0.113.9")) == "limited"
    assert outcome(roost, sign_in(svc, "alice", RIGHT, "198.51.100.20")) == "ok"
    assert outcome(roost, sign_in(svc, "alice", RIGHT, "203.0.113.9")) == "limited"


@pytest.mark.settings(sign_in_attempts=3, sign_in_account_attempts=5)
def test_given_guesses_from_many_addresses_when_the_account_limit_is_reached_then_everyone_waits(
    roost: Roost,
) -> None:
    roost.account("alice")
    svc = services(roost)
    for n in range(5):
        assert outcome(roost, sign_in(svc, "alice", "guess", f"203.0.113.{n}")) == "wrong"
    assert outcome(roost, sign_in(svc, "alice", "guess", "203.0.113.99")) == "limited"
    assert outcome(roost, sign_in(svc, "alice", RIGHT, "198.51.100.20")) == "limited"


@pytest.mark.settings(sign_in_attempts=3, sign_in_account_attempts=100)
def test_given_the_username_and_the_email_when_guessed_in_turn_then_they_share_one_count(
    roost: Roost,
) -> None:
    roost.account("alice")
    svc = services(roost)
    for login in ("alice", "ALICE@example.org", "@Alice"):
        assert outcome(roost, sign_in(svc, login, "guess", "203.0.113.9")) == "wrong"
    assert outcome(roost, sign_in(svc, "alice@example.org", RIGHT, "203.0.113.9")) == "limited"


@pytest.mark.settings(sign_in_attempts=3, sign_in_address_attempts=4)
def test_given_one_address_trying_many_accounts_then_its_looser_limit_holds(
    roost: Roost,
) -> None:
    roost.account("alice")
    svc = services(roost)
    for n in range(4):
        assert outcome(roost, sign_in(svc, f"someone{n}", "guess", "203.0.113.9")) == "wrong"
    assert outcome(roost, sign_in(svc, "alice", RIGHT, "203.0.113.9")) == "limited"
    assert outcome(roost, sign_in(svc, "alice", RIGHT, "198.51.100.20")) == "ok"


@pytest.mark.settings(sign_in_attempts=3)
def test_given_typos_then_the_right_password_then_the_count_starts_again(roost: Roost) -> None:
    roost.account("alice")
    svc = services(roost)
    for _ in range(2):
        assert outcome(roost, sign_in(svc, "alice", "typo", "203.0.113.9")) == "wrong"
    assert outcome(roost, sign_in(svc, "alice", RIGHT, "203.0.113.9")) == "ok"
    for _ in range(3):
        assert outcome(roost, sign_in(svc, "alice", "typo", "203.0.113.9")) == "wrong"
    assert outcome(roost, sign_in(svc, "alice", RIGHT, "203.0.113.9")) == "limited"


@pytest.mark.settings(sign_in_attempts=3)
def test_given_sign_in_guesses_when_the_erasure_password_is_tried_then_it_is_limited_too(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    svc = services(roost)
    for _ in range(3):
        assert outcome(roost, sign_in(svc, "alice", "guess", "203.0.113.9")) == "wrong"
    account_id = int(alice.id)
    assert outcome(roost, confirm_password(svc, account_id, RIGHT, "203.0.113.9")) == "limited"
    assert outcome(roost, confirm_password(svc, account_id, RIGHT, "198.51.100.20")) == "ok"


@pytest.mark.settings(sign_in_attempts=2)
def test_given_erasure_guesses_over_http_then_429_with_retry_after_and_nothing_erased(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    for _ in range(2):
        wrong = alice.post("/api/v1/roost/account/erase", json={"password": "guess"})
        assert wrong.status_code == 403
    limited = alice.post("/api/v1/roost/account/erase", json={"password": RIGHT})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert limited.json() == {"error": "Too many failed password attempts; try again later"}
    assert alice.get("/api/v1/accounts/verify_credentials").status_code == 200
    bad = roost.client.post(
        "/api/v1/roost/account/erase",
        content=b"{not json",
        headers={**alice.headers, "Content-Type": "application/json"},
    )
    assert bad.status_code == 400 and "JSON" in bad.json()["error"]
