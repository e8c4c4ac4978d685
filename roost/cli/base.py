"""Shared pieces of the ``roost`` command: the command groups, and running a body
against the database with errors turned into one-line failures.

Every command reads the same ROOST_* settings as the server. Errors are one
sentence naming the problem and the fix, and exit 1; never a traceback.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer

from roost.config import Settings, SettingsError, load_settings
from roost.db.engine import Database
from roost.db.migrate import SchemaTooNew, upgrade
from roost.errors import RoostError
from roost.process import prepare_process

T = TypeVar("T")

app = typer.Typer(
    help="Roost: a Mastodon-API social network server.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
accounts_app = typer.Typer(help="Create and manage accounts.", no_args_is_help=True)
tokens_app = typer.Typer(help="Issue access tokens.", no_args_is_help=True)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
jobs_app = typer.Typer(help="The background job queue.", no_args_is_help=True)


def _print_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version

        typer.echo(f"roost {version('roost')}")
        raise typer.Exit()


@app.callback()
def _roost(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_print_version,
        is_eager=True,
        help="Print the installed release and exit.",
    ),
) -> None:
    """Roost: a Mastodon-API social network server."""


app.add_typer(accounts_app, name="accounts")
app.add_typer(tokens_app, name="tokens")
app.add_typer(db_app, name="db")
app.add_typer(jobs_app, name="jobs")


def fail(message: str) -> typer.Exit:
    typer.secho(f"roost: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(1)


def settings_or_exit() -> Settings:
    """The settings, with this process prepared for them (key store, media URL
    key: roost/process.py); a bad setting is a one-line failure."""
    try:
        settings = load_settings()
    except SettingsError as error:
        raise fail(f"bad setting: {error}") from None
    prepare_process(settings)
    return settings


def run_with_db(body: Callable[[Settings, Database], Awaitable[T]], *, migrate: bool = True) -> T:
    """Run ``body`` with a migrated database; domain errors become one-line failures."""
    settings = settings_or_exit()

    async def main() -> T:
        db = Database(settings)
        try:
            if migrate:
                await upgrade(db)
            return await body(settings, db)
        finally:
            await db.dispose()

    try:
        return asyncio.run(main())
    except RoostError as error:
        raise fail(error.message) from None
    except SchemaTooNew as error:
        raise fail(str(error)) from None
    except OSError as error:
        raise fail(f"cannot reach the database or data directory: {error}") from None


def prompt_password() -> str:
    if not sys.stdin.isatty():
        raise fail("no --password given and no terminal to ask on; pass --password")
    first = getpass.getpass("Password: ")
    second = getpass.getpass("Password again: ")
    if first != second:
        raise fail("the two passwords differ; try again")
    return first


def elapsed_since(start: float) -> str:
    return f"{time.monotonic() - start:.2f}s"
