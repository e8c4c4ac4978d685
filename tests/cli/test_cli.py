"""The `roost` command as an operator uses it: one-line errors, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from roost.cli.main import app

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ROOST_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_given_a_new_name_when_created_then_it_exists_and_a_token_prints_alone(
    data_dir: Path,
) -> None:
    created = runner.invoke(
        app,
        [
            "accounts",
            "create",
            "alice",
            "--email",
            "a@example.org",
            "--password",
            "long enough pw",
            "--admin",
        ],
    )
    assert created.exit_code == 0, created.output
    assert "created @alice" in created.output
    token = runner.invoke(app, ["tokens", "create", "alice", "--scopes", "read write"])
    assert token.exit_code == 0
    assert len(token.output.strip().splitlines()) == 1 and len(token.output.strip()) >= 40


def test_given_a_taken_name_when_created_again_then_one_line_and_exit_1(data_dir: Path) -> None:
    args = ["accounts", "create", "alice", "--email", "a@example.org", "--password", "long pw!!"]
    assert runner.invoke(app, args).exit_code == 0
    again = runner.invoke(app, [*args[:3], "--email", "b@example.org", "--password", "x" * 9])
    assert again.exit_code == 1
    assert "already taken" in again.output
    assert "Traceback" not in again.output and len(again.output.strip().splitlines()) == 1


def test_given_no_terminal_and_no_password_when_created_then_it_says_pass_password(
    data_dir: Path,
) -> None:
    result = runner.invoke(app, ["accounts", "create", "bob", "--email", "b@example.org"])
    assert result.exit_code == 1 and "--password" in result.output


def test_given_unknown_scopes_or_name_when_a_token_is_asked_then_exit_1(data_dir: Path) -> None:
    bad_scope = runner.invoke(app, ["tokens", "create", "nobody", "--scopes", "read sudo"])
    assert bad_scope.exit_code == 1 and "sudo" in bad_scope.output
    no_one = runner.invoke(app, ["tokens", "create", "nobody"])
    assert no_one.exit_code == 1 and "no account named nobody" in no_one.output


def test_given_a_database_when_status_and_upgrade_run_then_they_report_the_revision(
    data_dir: Path,
) -> None:
    before = runner.invoke(app, ["db", "status"])
    assert "pending" in before.output
    upgraded = runner.invoke(app, ["db", "upgrade"])
    assert upgraded.exit_code == 0 and "schema at revision" in upgraded.output
    after = runner.invoke(app, ["db", "status"])
    assert after.exit_code == 0 and "up to date" in after.output


def test_given_a_bad_setting_when_any_command_runs_then_it_names_the_variable(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROOST_REGISTRATIONS", "sometimes")
    result = runner.invoke(app, ["db", "status"])
    assert result.exit_code == 1
    assert "ROOST_REGISTRATIONS" in result.output and "Traceback" not in result.output


def test_given_a_revoked_account_when_revoke_all_runs_then_it_counts_tokens(
    data_dir: Path,
) -> None:
    runner.invoke(
        app,
        ["accounts", "create", "carol", "--email", "c@example.org", "--password", "long enough pw"],
    )
    runner.invoke(app, ["tokens", "create", "carol"])
    runner.invoke(app, ["tokens", "create", "carol"])
    result = runner.invoke(app, ["tokens", "revoke-all", "carol"])
    assert result.exit_code == 0 and "revoked 2 token(s)" in result.output
