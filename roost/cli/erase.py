"""roost accounts erase NAME: erase an account everywhere and print the receipt."""

from __future__ import annotations

import json
import sys

import typer

from roost.cli.base import accounts_app, fail, run_with_db
from roost.cli.staff import acting, as_option
from roost.config import Settings
from roost.db.engine import Database
from roost.domain.accounts.queries import account_id_for_username
from roost.erasure.erase import Receipt, erase_account
from roost.services import build_services


@accounts_app.command("erase")
def erase(
    name: str = typer.Argument(..., help="The username"),
    yes: bool = typer.Option(False, "--yes", help="Do not ask to type the name"),
    as_json: bool = typer.Option(False, "--json", help="Print the receipt as JSON"),
    actor: str | None = as_option(),
) -> None:
    """Erase an account and everything of it, for good; prints a receipt."""
    if not yes:
        if not sys.stdin.isatty():
            raise fail("no terminal to confirm on; pass --yes to erase without asking")
        typed = typer.prompt(f"This erases @{name} and all its posts for good. Type the name")
        if typed.strip().lstrip("@") != name.lstrip("@"):
            raise fail("the name typed does not match; nothing was erased")

    async def body(settings: Settings, db: Database) -> Receipt:
        async with db.read() as conn:
            by = await acting(conn, actor, "accounts erase")
            account_id = await account_id_for_username(conn, name)
        if account_id is None:
            raise fail(f"no account named {name}")
        services = build_services(settings, db)
        return await erase_account(services, account_id, by=by)

    receipt = run_with_db(body)
    if as_json:
        typer.echo(json.dumps(receipt.as_dict(), indent=2))
    else:
        typer.echo(f"erased @{receipt.username} (id {receipt.account_id})")
        for table, count in sorted(receipt.tables.items()):
            if count:
                typer.echo(f"  table {table}: {count} row(s)")
        for store, outcome in receipt.stores.items():
            typer.echo(f"  store {store}: {outcome}")
        for store, hits in receipt.hits.items():
            typer.echo(f"  scan  {store}: {'; '.join(hits) if hits else '0 hits'}")
    if not receipt.clean:
        raise fail("the scan still finds the account's data (see above); it is not fully erased")
