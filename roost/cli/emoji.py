"""roost emoji add | list | remove"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from roost.cli.base import app, fail, run_with_db
from roost.cli.staff import acting, as_option, audited
from roost.config import Settings
from roost.db.engine import Database
from roost.domain.emojis import actions
from roost.domain.emojis.queries import CustomEmoji, all_emojis

emoji_app = typer.Typer(help="Custom emoji.", no_args_is_help=True)
app.add_typer(emoji_app, name="emoji")


@emoji_app.command("add")
def add(
    name: str = typer.Argument(..., help="The shortcode, used as :name: in posts"),
    file: Path = typer.Argument(..., help="A PNG, GIF or WebP image, at most 256 KiB"),
    category: str = typer.Option("", "--category", help="Groups emoji in apps' pickers"),
    hidden: bool = typer.Option(False, "--hidden", help="Usable, but not shown in pickers"),
    actor: str | None = as_option(),
) -> None:
    """Add a custom emoji from an image file."""
    try:
        data = file.read_bytes()
    except OSError as error:
        raise fail(f"cannot read {file}: {error.strerror or error}") from None

    async def body(settings: Settings, db: Database) -> None:
        await actions.screen(db, settings, data, None)
        async with db.write() as tx:
            by = await acting(tx.conn, actor, "emoji add")
            made = await actions.do_add_emoji(
                tx,
                settings.data_dir,
                name,
                data,
                category=category or None,
                visible_in_picker=not hidden,
            )
            await audited(
                tx, by, "emoji add", action="custom_emoji.create", subject_type="custom_emoji",
                subject_id=made, details={"shortcode": name},
            )  # fmt: skip

    run_with_db(body)
    typer.echo(f"added :{name}:")


@emoji_app.command("list")
def list_emoji() -> None:
    """Every custom emoji."""

    async def body(settings: Settings, db: Database) -> list[CustomEmoji]:
        async with db.read() as conn:
            return await all_emojis(conn)

    emojis = run_with_db(body)
    if not emojis:
        typer.echo("no custom emoji")
        return
    table = Table("shortcode", "category", "in picker", "file")
    for e in emojis:
        table.add_row(
            f":{e.shortcode}:",
            e.category or "",
            "yes" if e.visible_in_picker else "no",
            e.file_name,
        )
    Console().print(table)


@emoji_app.command("remove")
def remove(
    name: str = typer.Argument(..., help="The shortcode"), actor: str | None = as_option()
) -> None:
    """Remove a custom emoji (and its image, unless another emoji uses it)."""

    async def body(settings: Settings, db: Database) -> None:
        async with db.write() as tx:
            by = await acting(tx.conn, actor, "emoji remove")
            await actions.do_remove_emoji(tx, settings.data_dir, name)
            await audited(
                tx, by, "emoji remove", action="custom_emoji.remove",
                subject_type="custom_emoji", details={"shortcode": name},
            )  # fmt: skip

    run_with_db(body)
    typer.echo(f"removed :{name}:")
