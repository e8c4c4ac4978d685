"""Every table declares what erasure does to it; a new table without a
declaration fails here, naming itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import ForeignKey
from typer.testing import CliRunner

from roost.cli.main import app
from roost.db.tables import metadata
from roost.erasure import registry
from roost.erasure.declared import purges, table_policies, undeclared
from roost.erasure.registry import Policy, PurgeResult
from tests.conftest import Roost

runner = CliRunner()


def test_every_table_declares_an_erasure_policy() -> None:
    missing = undeclared(metadata)
    assert not missing, (
        f"tables without an erasure policy: {', '.join(missing)}; declare each in "
        "roost/erasure/tables.py (delete, anonymise or keep, and why)"
    )


def test_declarations_name_real_tables_and_columns() -> None:
    for name, policy in table_policies().items():
        assert name in metadata.tables, f"{name} is declared but is no table"
        table = metadata.tables[name]
        for column in (*policy.accounts, *policy.statuses, *policy.set_values):
            assert column in table.c, f"{name}.{column} is declared but is no column"
        if policy.cascade_from is not None:
            parents = {fk.column.table.name for c in table.columns for fk in c.foreign_keys}
            assert policy.cascade_from in parents, f"{name} has no key to {policy.cascade_from}"


def test_every_column_that_names_an_account_is_covered_by_its_tables_policy() -> None:
    """A foreign key to accounts that the declaration does not use would keep
    the erased account's rows (KEEP tables excepted, where none should exist)."""
    for name, policy in table_policies().items():
        table = metadata.tables[name]
        referring = {
            c.name
            for c in table.columns
            for fk in c.foreign_keys
            if isinstance(fk, ForeignKey) and fk.column.table.name == "accounts"
        }
        if policy.policy is Policy.KEEP:
            assert not referring, f"{name} keeps rows that name accounts ({referring})"
        else:
            uncovered = referring - set(policy.accounts)
            assert not uncovered, f"{name}: {uncovered} name accounts but are not declared"


def test_the_derived_stores_register_their_purges() -> None:
    assert {"timelines", "search index", "media files", "database files"} <= set(purges())


def test_given_a_declaration_that_cannot_find_rows_or_comes_twice_then_it_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A declaration that would erase nothing must stop the process at import,
    not leave a table quietly kept."""
    monkeypatch.setattr(registry, "_tables", {})
    registry.declare("notes", Policy.DELETE, reason="r", accounts=("account_id",))
    with pytest.raises(RuntimeError, match="declares its erasure policy twice"):
        registry.declare("notes", Policy.KEEP, reason="again")
    with pytest.raises(RuntimeError, match="ANONYMISE needs the values it writes"):
        registry.declare("drafts", Policy.ANONYMISE, reason="r", accounts=("account_id",))
    with pytest.raises(RuntimeError, match="DELETE needs the columns"):
        registry.declare("marks", Policy.DELETE, reason="r")
    assert set(registry.table_policies()) == {"notes"}


def test_given_a_store_that_registers_its_purge_twice_then_it_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(registry, "_purges", {})

    async def purge(svc: object, subject: object) -> PurgeResult:
        return PurgeResult(0)

    registry.register_purge("notes", purge)
    with pytest.raises(RuntimeError, match="registered its purge twice"):
        registry.register_purge("notes", purge)
    assert list(registry.purges()) == ["notes"]


def test_given_a_wrong_password_then_self_service_erasure_refuses_and_the_right_one_erases(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    alice.post_status("soon to be gone, every word of it")
    assert alice.post("/api/v1/roost/account/erase", json={}).status_code == 422
    wrong = alice.post("/api/v1/roost/account/erase", json={"password": "not it at all"})
    assert wrong.status_code == 403
    assert alice.get("/api/v1/accounts/verify_credentials").status_code == 200
    erased = alice.post("/api/v1/roost/account/erase", json={"password": "correct horse battery"})
    assert erased.status_code == 200, erased.text
    live = {k: v for k, v in erased.json()["scan"].items() if k != "backups"}
    assert all(not hits for hits in live.values()), live
    assert alice.get("/api/v1/accounts/verify_credentials").status_code == 401


def test_given_the_cli_then_erase_asks_for_the_name_and_prints_a_clean_receipt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROOST_DATA_DIR", str(tmp_path / "data"))
    args = ["accounts", "create", "alice", "--email", "a@example.org", "--password", "x" * 12]
    assert runner.invoke(app, args).exit_code == 0
    no_tty = runner.invoke(app, ["accounts", "erase", "alice"])
    assert no_tty.exit_code == 1 and "--yes" in no_tty.output
    done = runner.invoke(app, ["accounts", "erase", "alice", "--yes"])
    assert done.exit_code == 0, done.output
    assert "erased @alice" in done.output and "scan  database tables: 0 hits" in done.output
    again = runner.invoke(app, ["accounts", "erase", "alice", "--yes"])
    assert again.exit_code == 1 and "no account named alice" in again.output
