"""roost hashes import | list | remove | quarantine | open: known-image lists."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from roost.cli.base import app, fail, run_with_db
from roost.config import Settings
from roost.db.engine import Database
from roost.domain.audit.chain import CONSOLE
from roost.domain.known_images import lists, quarantine

hashes_app = typer.Typer(
    help="Known-image lists: uploads matching them are refused and quarantined.",
    no_args_is_help=True,
)
app.add_typer(hashes_app, name="hashes")


@hashes_app.command("import")
def import_hashes(
    file: Path = typer.Argument(..., help="One hash a line (64 hex digits), optional label"),
    name: str = typer.Option(..., "--list", help="The list's name; an existing list is replaced"),
    kind: str = typer.Option(
        "pdq", "--kind", help="pdq (perceptual, images) or sha256 (exact, any file)"
    ),
) -> None:
    """Import a list of hashes, or replace the list of that name at once."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise fail(f"cannot read {file}: {error}") from None

    async def body(settings: Settings, db: Database) -> lists.KnownImageList:
        return await lists.import_list(db, name, kind, lists.parse_entries(text))

    made = run_with_db(body)
    typer.echo(f"list {made.name}: {made.entries} {made.kind} hashes")


@hashes_app.command("list")
def list_hashes() -> None:
    """Every list: its name, kind, size and when it was imported."""

    async def body(settings: Settings, db: Database) -> list[lists.KnownImageList]:
        async with db.read() as conn:
            return await lists.all_lists(conn)

    found = run_with_db(body)
    if not found:
        typer.echo("no known-image lists")
    for item in found:
        when = item.imported_at.strftime("%Y-%m-%d %H:%M UTC")
        typer.echo(f"{item.name}\t{item.kind}\t{item.entries} hashes\timported {when}")


@hashes_app.command("remove")
def remove_hashes(name: str = typer.Argument(..., help="The list's name")) -> None:
    """Remove a list and all its hashes."""

    async def body(settings: Settings, db: Database) -> None:
        await lists.remove_list(db, name)

    run_with_db(body)
    typer.echo(f"removed list {name}")


@hashes_app.command("quarantine")
def list_quarantine(
    limit: int = typer.Option(100, "--limit", min=1, max=10_000, help="How many, newest first"),
) -> None:
    """Files refused as known images (never their content; see 'roost hashes open')."""

    async def body(settings: Settings, db: Database) -> list[quarantine.QuarantinedMedia]:
        async with db.read() as conn:
            return await quarantine.quarantined(conn, limit=limit)

    found = run_with_db(body)
    if not found:
        typer.echo("the quarantine is empty")
    for item in found:
        when = item.created_at.strftime("%Y-%m-%d %H:%M UTC")
        who = item.account_id if item.account_id is not None else "-"
        typer.echo(
            f"{item.id}\t{when}\t{item.origin}\taccount {who}\t{item.content_type}\t"
            f"{item.file_size} bytes\tlist {item.list_name} (distance {item.distance})"
        )


@hashes_app.command("open")
def open_quarantined(
    item: int = typer.Argument(..., help="The quarantined file's id"),
    out: Path = typer.Option(..., "--out", help="Where to write the file (must not exist)"),
) -> None:
    """Write a quarantined file out, for a report to the authorities; audited."""
    if out.exists():
        raise fail(f"{out} exists; name a new file")

    async def body(settings: Settings, db: Database) -> bytes:
        async with db.write() as tx:
            _, data = await quarantine.do_open(tx, CONSOLE, item)
        return data

    data = run_with_db(body)
    try:
        descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
    except OSError as error:
        raise fail(f"cannot write {out}: {error.strerror or error}") from None
    typer.echo(f"wrote {len(data)} bytes to {out} (owner-only permissions)")
