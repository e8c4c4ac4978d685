"""roost accounts confirm NAME: confirm an address by hand (no mail server,
or a mail that never arrived)."""

from __future__ import annotations

import typer

from roost.cli.base import accounts_app, fail, run_with_db
from roost.config import Settings
from roost.db.engine import Database
from roost.domain.accounts.actions import do_confirm_email
from roost.domain.accounts.queries import account_id_for_username


@accounts_app.command("confirm")
def confirm(name: str = typer.Argument(..., help="The username")) -> None:
    """Mark the account's e-mail address as confirmed, as its link would."""
    name = name.lstrip("@")

    async def body(settings: Settings, db: Database) -> bool:
        async with db.write() as tx:
            account_id = await account_id_for_username(tx.conn, name)
            if account_id is None:
                raise fail(f"no account named {name}")
            return await do_confirm_email(tx, account_id)

    if run_with_db(body):
        typer.echo(f"confirmed the address of @{name}")
    else:
        typer.echo(f"@{name} had already confirmed their address")
