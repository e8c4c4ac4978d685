"""`roost accounts suspend` and `unsuspend` as an operator uses them, against a
running app on either backend."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner, Result

from roost.cli.main import app
from tests.conftest import Roost, User

runner = CliRunner()


@pytest.fixture
def cli_env(roost: Roost, monkeypatch: pytest.MonkeyPatch) -> Roost:
    """The command reads the same settings as the running app."""
    s = roost.settings
    monkeypatch.setenv("ROOST_DATA_DIR", str(s.data_dir))
    monkeypatch.setenv("ROOST_SECRET_KEY", s.secret_key)
    if not roost.db.is_sqlite:
        monkeypatch.setenv("ROOST_DATABASE_URL", s.database_url)
    return roost


def roost_cmd(*args: str) -> Result:
    return runner.invoke(app, ["accounts", *args])


def one_line_failure(result: Result, words: str) -> None:
    assert result.exit_code == 1, result.output
    assert words in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def counts(roost: Roost, user: User) -> tuple[int, int]:
    shown = roost.client.get(f"/api/v1/accounts/{user.id}").json()
    return shown["followers_count"], shown["following_count"]


def test_given_an_account_when_the_operator_suspends_it_then_it_vanishes_until_unsuspended(
    cli_env: Roost,
) -> None:
    roost = cli_env
    alice, bob = roost.account("alice"), roost.account("bob")
    bob.follow(alice)
    alice.follow(bob)
    post = alice.post_status("about to be suspended")
    roost.drain_jobs()

    suspended = roost_cmd("suspend", "alice", "--reason", "spam wave")

    assert suspended.exit_code == 0, suspended.output
    assert "suspended @alice" in suspended.output and "unsuspend" in suspended.output
    assert roost.client.get(f"/api/v1/statuses/{post['id']}").status_code == 404
    assert post["id"] not in bob.get("/api/v1/timelines/home").text
    assert post["id"] not in roost.client.get("/api/v1/timelines/public").text
    assert counts(roost, bob) == (0, 0)

    lifted = roost_cmd("unsuspend", "alice")

    assert lifted.exit_code == 0 and "unsuspended @alice" in lifted.output
    assert roost.client.get(f"/api/v1/statuses/{post['id']}").status_code == 200
    assert post["id"] in bob.get("/api/v1/timelines/home").text
    assert counts(roost, bob) == (1, 1) and counts(roost, alice) == (1, 1)


def test_given_mistakes_when_suspending_or_unsuspending_then_one_line_and_exit_1(
    cli_env: Roost,
) -> None:
    cli_env.account("alice")

    one_line_failure(roost_cmd("suspend", "nobody"), "no account named nobody")
    one_line_failure(roost_cmd("unsuspend", "nobody"), "no account named nobody")
    one_line_failure(roost_cmd("unsuspend", "alice"), "@alice is not suspended")
    assert roost_cmd("suspend", "alice").exit_code == 0
    one_line_failure(roost_cmd("suspend", "@alice"), "is already suspended")
