"""roost accounts … and roost tokens …"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import typer

from roost.cli.base import accounts_app, fail, prompt_password, run_with_db, tokens_app
from roost.cli.staff import acting, as_option
from roost.config import Settings
from roost.db.engine import Database, Tx
from roost.domain.accounts import actions, moderation
from roost.domain.accounts.queries import account_id_for_username
from roost.domain.audit.chain import Staff
from roost.domain.federation import moves
from roost.domain.oauth import scopes as scope_rules
from roost.domain.oauth.actions import do_issue_token, do_revoke_all_for_account


@accounts_app.command("create")
def create(
    name: str = typer.Argument(..., help="The username, e.g. alice"),
    email: str = typer.Option(..., "--email", help="The account's email address"),
    password: str = typer.Option(
        None, "--password", help="Asked for on the terminal when left out"
    ),
    admin: bool = typer.Option(False, "--admin", help="Make the account an administrator"),
    locked: bool = typer.Option(False, "--locked", help="Followers must be approved"),
) -> None:
    """Create an account (approved at once)."""
    secret = password if password is not None else prompt_password()

    async def body(settings: Settings, db: Database) -> int:
        async with db.write() as tx:
            return await actions.do_create_account(
                tx,
                actions.NewAccount(
                    username=name,
                    email=email,
                    password=secret,
                    admin=admin,
                    locked=locked,
                    approved=True,
                ),
            )

    account_id = run_with_db(body)
    typer.echo(f"created @{name} (id {account_id})")


@accounts_app.command("approve")
def approve(
    name: str = typer.Argument(..., help="The username"),
    actor: str | None = as_option(),
) -> None:
    """Approve an account that signed up while registrations need approval."""

    async def body(settings: Settings, db: Database) -> None:
        async with db.write() as tx:
            by = await acting(tx.conn, actor, "accounts approve")
            account_id = await account_id_for_username(tx.conn, name)
            if account_id is None:
                raise fail(f"no account named {name}")
            await actions.do_approve(tx, account_id, by=by)

    run_with_db(body)
    typer.echo(f"approved @{name}")


@accounts_app.command("suspend")
def suspend(
    name: str = typer.Argument(..., help="The username"),
    reason: str = typer.Option(None, "--reason", help="Why, for the audit log"),
    actor: str | None = as_option(),
) -> None:
    """Suspend an account: its profile and posts are hidden from everyone but
    staff, its tokens stop working and its follows stop counting. Undo with
    `roost accounts unsuspend`."""
    name = name.lstrip("@")
    _change_suspension(
        name,
        lambda tx, account_id, by: moderation.do_suspend_account(
            tx, account_id, reason=reason, actor=by
        ),
        refusal=f"@{name} is already suspended; `roost accounts unsuspend {name}` lifts it",
        actor=actor,
        command="accounts suspend",
    )
    typer.echo(f"suspended @{name}; `roost accounts unsuspend {name}` undoes it")


@accounts_app.command("unsuspend")
def unsuspend(
    name: str = typer.Argument(..., help="The username"),
    actor: str | None = as_option(),
) -> None:
    """Lift a suspension: the account, its posts and its follows are back."""
    name = name.lstrip("@")
    _change_suspension(
        name,
        lambda tx, account_id, by: moderation.do_unsuspend_account(tx, account_id, actor=by),
        refusal=f"@{name} is not suspended",
        actor=actor,
        command="accounts unsuspend",
    )
    typer.echo(f"unsuspended @{name}")


def _change_suspension(
    name: str,
    change: Callable[[Tx, int, Staff], Awaitable[bool]],
    *,
    refusal: str,
    actor: str | None,
    command: str,
) -> None:
    """Apply ``change`` to the account ``name``; ``refusal`` when it changed nothing."""

    async def body(settings: Settings, db: Database) -> None:
        async with db.write() as tx:
            by = await acting(tx.conn, actor, command)
            account_id = await account_id_for_username(tx.conn, name)
            if account_id is None:
                raise fail(f"no account named {name}")
            if not await change(tx, account_id, by):
                raise fail(refusal)

    run_with_db(body)


@tokens_app.command("create")
def create_token(
    name: str = typer.Argument(..., help="The username the token acts for"),
    scopes: str = typer.Option(
        "read write follow push", "--scopes", help="Space-separated OAuth scopes"
    ),
) -> None:
    """Issue an access token and print it (only the token, for scripts)."""
    try:
        granted = scope_rules.parse(scopes)
    except scope_rules.ScopeError as error:
        raise fail(
            f"{error}; known scopes: {' '.join(scope_rules.TOP_LEVEL)} and their read:/write: parts"
        ) from None

    async def body(settings: Settings, db: Database) -> str:
        async with db.write() as tx:
            account_id = await account_id_for_username(tx.conn, name)
            if account_id is None:
                raise fail(f"no account named {name}; create it with `roost accounts create`")
            issued = await do_issue_token(tx, account_id, None, granted)
            return issued.token

    typer.echo(run_with_db(body))


@tokens_app.command("revoke-all")
def revoke_all(
    name: str = typer.Argument(..., help="The username"),
    actor: str | None = as_option(),
) -> None:
    """Revoke every token of an account at once (a stolen laptop, a leaked token)."""

    async def body(settings: Settings, db: Database) -> int:
        async with db.write() as tx:
            by = await acting(tx.conn, actor, "tokens revoke-all")
            account_id = await account_id_for_username(tx.conn, name)
            if account_id is None:
                raise fail(f"no account named {name}")
            return await do_revoke_all_for_account(tx, account_id, by=by)

    typer.echo(f"revoked {run_with_db(body)} token(s) of @{name}")


alias_app = typer.Typer(
    help="An account's aliases: its old accounts, which it may move from.",
    no_args_is_help=True,
)
accounts_app.add_typer(alias_app, name="alias")


async def _local_id(db: Database, name: str) -> int:
    async with db.read() as conn:
        account_id = await account_id_for_username(conn, name.lstrip("@"))
    if account_id is None:
        raise fail(f"no account named {name}")
    return account_id


@alias_app.command("add")
def alias_add(
    name: str = typer.Argument(..., help="The local account's username"),
    old: str = typer.Argument(..., help="Its old account: @name@domain, name, or its address"),
) -> None:
    """Name an old account as this one's (``alsoKnownAs``): the account it may
    then move from. The old account must resolve."""

    async def body(settings: Settings, db: Database) -> moves.Alias:
        return await moves.add_alias(db, settings, await _local_id(db, name), old)

    alias = run_with_db(body)
    typer.echo(f"@{name.lstrip('@')} is also known as {alias.acct} ({alias.uri})")


@alias_app.command("list")
def alias_list(name: str = typer.Argument(..., help="The local account's username")) -> None:
    """The account's aliases, one a line: acct and actor address."""

    async def body(settings: Settings, db: Database) -> list[moves.Alias]:
        account_id = await _local_id(db, name)
        async with db.read() as conn:
            return await moves.aliases_of(conn, account_id)

    for alias in run_with_db(body):
        typer.echo(f"{alias.acct}\t{alias.uri}")


@alias_app.command("remove")
def alias_remove(
    name: str = typer.Argument(..., help="The local account's username"),
    old: str = typer.Argument(..., help="The alias, as `roost accounts alias list` shows it"),
) -> None:
    """Forget an alias."""

    async def body(settings: Settings, db: Database) -> None:
        account_id = await _local_id(db, name)
        async with db.read() as conn:
            found = [
                a
                for a in await moves.aliases_of(conn, account_id)
                if old.lstrip("@") in (a.acct, a.uri)
            ]
        if not found:
            raise fail(f"@{name.lstrip('@')} has no alias {old}")
        await moves.remove_alias(db, account_id, found[0].id)

    run_with_db(body)
    typer.echo(f"removed the alias {old}")


@accounts_app.command("move")
def move(
    name: str = typer.Argument(..., help="The local account's username"),
    new: str = typer.Argument(..., help="The new account: @name@domain, name, or its address"),
) -> None:
    """Move an account to a new one, which must name it among its aliases:
    its followers are told (Move) and follow the new account; it posts no more."""

    async def body(settings: Settings, db: Database) -> moves.Target:
        return await moves.move_out(db, settings, await _local_id(db, name), new)

    target = run_with_db(body)
    typer.echo(f"@{name.lstrip('@')} moved to {target.acct} ({target.uri})")
