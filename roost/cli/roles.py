"""roost roles …: staff roles and who holds them."""

from __future__ import annotations

import typer

from roost.cli.base import app, fail, run_with_db
from roost.cli.staff import acting, as_option
from roost.config import Settings
from roost.db.engine import Database
from roost.domain.roles import actions
from roost.domain.roles.permissions import describe, names, parse
from roost.domain.roles.queries import Role, all_roles, holders

roles_app = typer.Typer(help="Staff roles and their permissions.", no_args_is_help=True)
app.add_typer(roles_app, name="roles")


@roles_app.command("list")
def list_roles() -> None:
    """List the roles, highest first, with their permissions and holders."""

    async def body(settings: Settings, db: Database) -> list[tuple[Role, list[str]]]:
        async with db.read() as conn:
            found = await all_roles(conn)
            return [(role, await holders(conn, role.id)) for role, _ in found]

    for role, people in run_with_db(body):
        granted = ", ".join(describe(role.permissions)) or "nothing"
        typer.echo(f"{role.name} [{role.id}] (position {role.position}): {granted}")
        typer.echo("  held by: " + (", ".join(f"@{p}" for p in people) or "nobody"))


@roles_app.command("create")
def create(
    name: str = typer.Argument(..., help="The role's name, e.g. Triage"),
    permissions: str = typer.Option(
        ..., "--permissions", help="Comma-separated, e.g. manage_reports,view_audit_log"
    ),
    position: int = typer.Option(
        5, "--position", help="Rank: a role can be given only by one above it"
    ),
    color: str = typer.Option("", "--color", help="A hex colour such as #ff3838"),
    highlighted: bool = typer.Option(False, "--highlighted", help="Shown as a profile badge"),
    actor: str | None = as_option(),
) -> None:
    """Create a role."""
    try:
        mask = parse(permissions)
    except ValueError as error:
        raise fail(str(error)) from None
    if not mask:
        raise fail(f"a role needs at least one permission; known: {', '.join(names())}")

    async def body(settings: Settings, db: Database) -> Role:
        async with db.write() as tx:
            by = await acting(tx.conn, actor, "roles create")
            return await actions.do_create_role(
                tx,
                name=name,
                permissions=int(mask),
                by=by,
                color=color,
                highlighted=highlighted,
                position=position,
            )

    role = run_with_db(body)
    typer.echo(f"created role {role.name} [{role.id}]: {', '.join(describe(role.permissions))}")


@roles_app.command("grant")
def grant(
    name: str = typer.Argument(..., help="The username"),
    role_name: str = typer.Argument(..., help="The role, e.g. Moderator"),
    actor: str | None = as_option(),
) -> None:
    """Give an account a role (in place of the one it held)."""

    async def body(settings: Settings, db: Database) -> Role:
        async with db.write() as tx:
            by = await acting(tx.conn, actor, "roles grant")
            account_id = await actions.account_named(tx, name)
            return await actions.do_grant_role(
                tx, account_id=account_id, role_name=role_name, by=by
            )

    role = run_with_db(body)
    typer.echo(f"@{name.lstrip('@')} now holds the role {role.name}")


@roles_app.command("revoke")
def revoke(
    name: str = typer.Argument(..., help="The username"),
    actor: str | None = as_option(),
) -> None:
    """Take an account's role away."""

    async def body(settings: Settings, db: Database) -> Role | None:
        async with db.write() as tx:
            by = await acting(tx.conn, actor, "roles revoke")
            account_id = await actions.account_named(tx, name)
            return await actions.do_revoke_role(tx, account_id=account_id, by=by)

    previous = run_with_db(body)
    if previous is None:
        raise fail(f"@{name.lstrip('@')} holds no role")
    typer.echo(f"@{name.lstrip('@')} no longer holds the role {previous.name}")
