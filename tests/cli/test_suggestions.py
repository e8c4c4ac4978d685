"""`roost suggestions feature|unfeature|list`: staff suggest an account to everyone."""

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


def test_given_an_account_when_featured_and_unfeatured_then_the_list_follows(
    data_dir: Path,
) -> None:
    args = ["accounts", "create", "star", "--email", "s@example.org", "--password", "long pw!!"]
    assert runner.invoke(app, args).exit_code == 0
    assert runner.invoke(app, ["suggestions", "list"]).output.startswith("no account")
    featured = runner.invoke(app, ["suggestions", "feature", "star"])
    assert featured.exit_code == 0 and "suggested to everyone" in featured.output
    assert "already" in runner.invoke(app, ["suggestions", "feature", "STAR"]).output
    assert runner.invoke(app, ["suggestions", "list"]).output.strip() == "star"
    assert runner.invoke(app, ["suggestions", "unfeature", "star"]).exit_code == 0
    assert runner.invoke(app, ["suggestions", "list"]).output.startswith("no account")
    missing = runner.invoke(app, ["suggestions", "feature", "nobody"])
    assert missing.exit_code == 1 and "nobody" in missing.output
