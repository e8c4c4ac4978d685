"""roost suggestions …: accounts staff suggest to everyone (GET /api/v1/suggestions
and /api/v2/suggestions, source ``featured``)."""

from __future__ import annotations

import typer

from roost.cli.base import app, run_with_db
from roost.cli.staff import acting, as_option, audited
from roost.config import Settings
from roost.db.engine import Database
from roost.domain.accounts.queries import account_id_for_username
from roost.domain.discovery import suggestions

suggestions_app = typer.Typer(help="Accounts suggested to everyone.", no_args_is_help=True)
app.add_typer(suggestions_app, name="suggestions")


def _change(username: str, feature: bool, actor: str | None) -> bool:
    command = "suggestions feature" if feature else "suggestions unfeature"

    async def body(settings: Settings, db: Database) -> bool:
        async with db.write() as tx:
            by = await acting(tx.conn, actor, command)
            if feature:
                changed = await suggestions.do_feature_account(tx, username)
            else:
                changed = await suggestions.do_unfeature_account(tx, username)
            if changed:
                target = await account_id_for_username(tx.conn, username)
                await audited(
                    tx, by, command,
                    action="account.feature" if feature else "account.unfeature",
                    subject_type="account", target_account_id=target,
                    personal={"username": username.lstrip("@")},
                )  # fmt: skip
            return changed

    return run_with_db(body)


@suggestions_app.command("feature")
def feature(
    username: str = typer.Argument(..., help="The account's username"),
    actor: str | None = as_option(),
) -> None:
    """Suggest this account to everyone."""
    changed = _change(username, True, actor)
    typer.echo(f"{username} is suggested to everyone" + ("" if changed else " (already was)"))


@suggestions_app.command("unfeature")
def unfeature(
    username: str = typer.Argument(..., help="The account's username"),
    actor: str | None = as_option(),
) -> None:
    """Stop suggesting this account to everyone."""
    changed = _change(username, False, actor)
    typer.echo(f"{username} is no longer suggested" + ("" if changed else " (was not)"))


@suggestions_app.command("list")
def list_featured() -> None:
    """The accounts suggested to everyone, oldest first."""

    async def body(settings: Settings, db: Database) -> list[str]:
        async with db.read() as conn:
            return await suggestions.featured_usernames(conn)

    names = run_with_db(body)
    if not names:
        typer.echo("no account is suggested to everyone; `roost suggestions feature NAME`")
    for name in names:
        typer.echo(name)
