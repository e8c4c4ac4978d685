"""roost warning-presets …: the texts staff pick when they act on an account
(``warning_preset_id`` of the admin API's account action; the staff page
/admin/warning-presets keeps the same list)."""

from __future__ import annotations

import typer

from roost.cli.base import app, fail, run_with_db
from roost.cli.staff import acting, as_option
from roost.config import Settings
from roost.db.engine import Database
from roost.domain.strikes import presets

presets_app = typer.Typer(help="Warning presets for moderation actions.", no_args_is_help=True)
app.add_typer(presets_app, name="warning-presets")


@presets_app.command("list")
def list_presets() -> None:
    """List the presets by title, with their ids (the ``warning_preset_id`` apps send)."""

    async def body(settings: Settings, db: Database) -> list[presets.WarningPreset]:
        async with db.read() as conn:
            return await presets.presets(conn)

    found = run_with_db(body)
    if not found:
        typer.echo("no warning presets; add one with `roost warning-presets create TEXT`")
    for preset in found:
        typer.echo(f"{preset.id}\t{preset.title or '(untitled)'}\t{preset.text}")


@presets_app.command("create")
def create(
    text: str = typer.Argument(..., help="The warning's text, e.g. 'Please keep it civil.'"),
    title: str = typer.Option("", "--title", help="A short name staff pick it by"),
    actor: str | None = as_option(),
) -> None:
    """Add a preset."""

    async def body(settings: Settings, db: Database) -> presets.WarningPreset:
        async with db.write() as tx:
            by = await acting(tx.conn, actor, "warning-presets create")
            return await presets.do_create(tx, title=title, text=text, actor=by)

    made = run_with_db(body)
    typer.echo(f"added warning preset {made.id}: {made.title or made.text}")


@presets_app.command("remove")
def remove(
    preset_id: str = typer.Argument(..., help="The preset's id (see `roost warning-presets list`)"),
    actor: str | None = as_option(),
) -> None:
    """Remove a preset (warnings already given keep their text)."""
    if not preset_id.isdigit():
        raise fail(f"{preset_id!r} is not a preset id; `roost warning-presets list` shows them")

    async def body(settings: Settings, db: Database) -> None:
        async with db.write() as tx:
            by = await acting(tx.conn, actor, "warning-presets remove")
            await presets.do_remove(tx, int(preset_id), actor=by)

    run_with_db(body)
    typer.echo(f"removed warning preset {preset_id}")
