"""roost backup create | verify | restore | prune | keygen"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import typer

from roost.cli.base import app, fail, settings_or_exit
from roost.config import Settings
from roost.db.migrate import SchemaTooNew
from roost.errors import RoostError
from roost.keys.backup import KEY_BACKUP_NAME
from roost.ops import backup as backups
from roost.ops.crypto import new_key_file
from roost.ops.errors import BackupError
from roost.ops.restore import RestoreReport, restore_backup
from roost.ops.verify import VerifyReport, verify_backup

T = TypeVar("T")

backup_app = typer.Typer(help="Back up, verify and restore.", no_args_is_help=True)
app.add_typer(backup_app, name="backup")


def run_ops(body: Callable[[Settings], Coroutine[Any, Any, T]]) -> T:
    """Run ``body`` with the settings; every failure is one line and exit 1."""
    settings = settings_or_exit()
    try:
        return asyncio.run(body(settings))
    except (RoostError, SchemaTooNew) as error:
        raise fail(getattr(error, "message", str(error))) from None
    except OSError as error:
        raise fail(f"{error.strerror or error}: {error.filename or ''}".rstrip(": ")) from None


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB"):
        value /= 1024
        if value < 1024 or unit == "GiB":
            break
    return f"{value:.1f} {unit}"


@backup_app.command("create")
def create(
    to: Path = typer.Option(None, "--to", help="Directory (default: ROOST_BACKUP_DIR)"),
    encrypt_key_file: Path = typer.Option(
        None, "--encrypt-key-file", help="Encrypt with this key (from `roost backup keygen`)"
    ),
) -> None:
    """Back up the database, media and secret key while Roost keeps serving."""

    async def body(settings: Settings) -> backups.BackupResult:
        return await backups.create_backup(settings, to=to, key_file=encrypt_key_file)

    result = run_ops(body)
    tables = len(result.manifest.row_counts)
    rows = sum(result.manifest.row_counts.values())
    typer.echo(f"backup written: {result.path}")
    typer.echo(
        f"  {_size(result.size)}, {len(result.manifest.files)} files, {rows} rows in {tables} "
        f"tables, schema {result.manifest.schema_revision}, {result.seconds:.2f}s"
    )


@backup_app.command("verify")
def verify(
    file: Path = typer.Argument(..., help="The backup file"),
    key_file: Path = typer.Option(None, "--key-file", help="Key of an encrypted backup"),
    scratch: Path = typer.Option(None, "--scratch", help="Where to restore it for the test"),
) -> None:
    """Check every checksum, then restore into a scratch place and check that."""

    async def body(settings: Settings) -> VerifyReport:
        from roost.api.mastodon import hooks

        hooks.install()  # restored posts render as the API renders them
        return await verify_backup(settings, file, key_file=key_file, scratch_dir=scratch)

    report = run_ops(body)
    typer.echo(f"verified {file.name} (made {report.manifest.created_at})")
    for check in report.checks:
        typer.echo(f"  ok  {check}")
    typer.echo(
        f"restore took {report.restore_seconds:.2f}s (verify in all {report.total_seconds:.2f}s)"
    )


@backup_app.command("restore")
def restore(
    file: Path = typer.Argument(..., help="The backup file"),
    key_file: Path = typer.Option(None, "--key-file", help="Key of an encrypted backup"),
    force: bool = typer.Option(
        False, "--force", help="Replace existing data (it is backed up first)"
    ),
    keys_file: Path = typer.Option(
        None,
        "--keys-file",
        help=f"The key-store backup to merge (default: {KEY_BACKUP_NAME} beside the backup, "
        "else in ROOST_BACKUP_DIR)",
    ),
) -> None:
    """Restore a backup (stop every Roost process first)."""
    if keys_file is not None and not keys_file.is_file():
        raise fail(f"{keys_file} is not a file: pass the key-store backup ({KEY_BACKUP_NAME})")

    async def body(settings: Settings) -> RestoreReport:
        return await restore_backup(
            settings, file, key_file=key_file, force=force, keys_file=keys_file
        )

    report = run_ops(body)
    if report.safety_backup is not None:
        typer.echo(f"the data it replaced is backed up in {report.safety_backup.path}")
    typer.echo(f"restored {file.name} (made {report.manifest.created_at})")
    typer.echo(
        f"  schema {report.manifest.schema_revision} -> {report.schema_after}, "
        f"{report.media_files} media files, rebuilt: {', '.join(report.rebuilt) or 'nothing'}"
    )
    if report.keys_from is not None:
        typer.echo(f"  key store: {report.keys_merged} key(s) merged from {report.keys_from}")
    else:
        typer.echo(
            f"  key store: no key-store backup found ({KEY_BACKUP_NAME} beside the backup or "
            "in ROOST_BACKUP_DIR); posts sealed under keys this key store lacks read as empty: "
            "rerun with --keys-file PATH if you have that file"
        )
    typer.echo(f"restore took {report.seconds:.2f}s")


@backup_app.command("prune")
def prune(
    keep_daily: int = typer.Option(7, "--keep-daily", min=0, help="Days to keep one of"),
    keep_weekly: int = typer.Option(4, "--keep-weekly", min=0, help="Weeks to keep one of"),
    directory: Path = typer.Option(None, "--dir", help="Directory (default: ROOST_BACKUP_DIR)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only say what would go"),
) -> None:
    """Delete old backups, keeping one per recent day and per recent week."""

    async def body(settings: Settings) -> backups.PruneResult:
        return backups.prune_backups(
            directory or settings.backups_path,
            keep_daily=keep_daily,
            keep_weekly=keep_weekly,
            dry_run=dry_run,
        )

    result = run_ops(body)
    verb = "would delete" if dry_run else "deleted"
    for path in result.deleted:
        typer.echo(f"{verb} {path.name}")
    typer.echo(f"kept {len(result.kept)}, {verb} {len(result.deleted)}")


@backup_app.command("keygen")
def keygen(file: Path = typer.Argument(..., help="Where to write the new key")) -> None:
    """Make a key for encrypted backups. Keep it apart from the backups."""
    try:
        new_key_file(file)
    except BackupError as error:
        raise fail(error.message) from None
    except OSError as error:
        raise fail(f"cannot write {file}: {error.strerror}") from None
    typer.echo(f"key written to {file} (mode 0600); without it, its backups cannot be read")
