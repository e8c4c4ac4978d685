"""roost rules …: the instance's rules (shown on /about, at sign-up, and to
apps as GET /api/v1/instance/rules)."""

from __future__ import annotations

import typer

from roost.cli.base import app, fail, run_with_db
from roost.cli.staff import acting, as_option, audited
from roost.config import Settings
from roost.db.engine import Database
from roost.domain.instance import rules as rule_actions

rules_app = typer.Typer(help="The instance's rules.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")


@rules_app.command("add")
def add(
    text: str = typer.Argument(..., help="The rule, e.g. 'No harassment'"),
    hint: str = typer.Option("", "--hint", help="A longer explanation shown under it"),
    actor: str | None = as_option(),
) -> None:
    """Add a rule after the existing ones."""

    async def body(settings: Settings, db: Database) -> rule_actions.Rule:
        async with db.write() as tx:
            by = await acting(tx.conn, actor, "rules add")
            rule = await rule_actions.do_add_rule(tx, text, hint)
            await audited(
                tx, by, "rules add", action="rule.create", subject_type="rule",
                subject_id=rule.id, personal={"text": rule.text, "hint": rule.hint},
            )  # fmt: skip
            return rule

    rule = run_with_db(body)
    typer.echo(f"added rule {rule.id}: {rule.text}")


@rules_app.command("list")
def list_rules() -> None:
    """List the rules in the order they are shown, with their ids."""

    async def body(settings: Settings, db: Database) -> list[rule_actions.Rule]:
        async with db.read() as conn:
            return await rule_actions.rules(conn)

    found = run_with_db(body)
    if not found:
        typer.echo("no rules yet; add one with `roost rules add TEXT`")
    for number, rule in enumerate(found, 1):
        typer.echo(f"{number}. [{rule.id}] {rule.text}" + (f" ({rule.hint})" if rule.hint else ""))


@rules_app.command("remove")
def remove(
    rule_id: str = typer.Argument(..., help="The rule's id (see `roost rules list`)"),
    actor: str | None = as_option(),
) -> None:
    """Remove a rule."""
    if not rule_id.isdigit():
        raise fail(f"{rule_id!r} is not a rule id; `roost rules list` shows them")

    async def body(settings: Settings, db: Database) -> None:
        async with db.write() as tx:
            by = await acting(tx.conn, actor, "rules remove")
            await rule_actions.do_remove_rule(tx, int(rule_id))
            await audited(
                tx, by, "rules remove", action="rule.remove", subject_type="rule",
                subject_id=int(rule_id),
            )  # fmt: skip

    run_with_db(body)
    typer.echo(f"removed rule {rule_id}")
