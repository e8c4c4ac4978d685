"""roost lawful …: lawful requests for an account's data (docs/moderation.md)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer

from roost.cli.base import app, fail, run_with_db
from roost.cli.staff import acting, as_option
from roost.config import Settings
from roost.db.engine import Database
from roost.domain.accounts.queries import account_id_for_username
from roost.domain.lawful import actions
from roost.domain.lawful.model import KINDS, LawfulRequest
from roost.export.lawful import disclose

lawful_app = typer.Typer(
    help="Lawful requests: an authority's request for an account's data.", no_args_is_help=True
)
app.add_typer(lawful_app, name="lawful")


def _when(text: str, *, end: bool) -> datetime:
    """``2026-11-01`` or an ISO date-time (UTC unless it says otherwise); a bare
    date ending a range includes that whole day."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise fail(f"{text!r} is no date: write it as 2026-11-01 or 2026-11-01T12:00") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if end and len(text.strip()) == 10:
        value += timedelta(days=1)
    return value


def _summary(r: LawfulRequest) -> str:
    account = f"account {r.account_id}" if r.account_id is not None else "an erased account"
    return (
        f"{r.id} {r.state:<9} {account} from {r.starts_at:%Y-%m-%d %H:%M} "
        f"until {r.ends_at:%Y-%m-%d %H:%M} [{', '.join(r.kinds)}] "
        f"{len(r.approvals)} approval(s), by {r.authority}"
    )


@lawful_app.command("list")
def list_requests(actor: str | None = as_option()) -> None:
    """List lawful requests, newest first."""

    async def body(settings: Settings, db: Database) -> list[LawfulRequest]:
        async with db.read() as conn:
            by = await acting(conn, actor, "lawful list")
            return await actions.listed(conn, by)

    found = run_with_db(body)
    if not found:
        typer.echo("no lawful requests")
    for r in found:
        typer.echo(_summary(r))


@lawful_app.command("show")
def show(request_id: int = typer.Argument(...), actor: str | None = as_option()) -> None:
    """Show one lawful request in full."""

    async def body(settings: Settings, db: Database) -> LawfulRequest:
        async with db.read() as conn:
            by = await acting(conn, actor, "lawful show")
            return await actions.show(conn, by, request_id)

    r = run_with_db(body)
    typer.echo(_summary(r))
    typer.echo(f"authority: {r.authority}")
    typer.echo(f"legal basis: {r.legal_basis}")
    typer.echo(f"verified by account {r.verified_by_account_id}: {r.verification}")
    typer.echo(f"entered by account {r.requested_by_account_id} at {r.created_at:%Y-%m-%d %H:%M}")
    for a in r.approvals:
        typer.echo(f"approved by account {a.approver_account_id} at {a.created_at:%Y-%m-%d %H:%M}")
    if r.refusal_reason is not None:
        typer.echo(f"refused by account {r.decided_by_account_id}: {r.refusal_reason}")
    if r.package_sha256 is not None:
        typer.echo(f"disclosed by account {r.decided_by_account_id}: sha256 {r.package_sha256}")


@lawful_app.command("create")
def create(
    account: str = typer.Argument(..., help="The named account's username"),
    authority: str = typer.Option(..., "--authority", help="Who asks (the authority)"),
    legal_basis: str = typer.Option(..., "--legal-basis", help="The legal basis it cites"),
    verification: str = typer.Option(
        ..., "--verification", help="How the request was verified to come from the authority"
    ),
    verified_by: str = typer.Option(..., "--verified-by", help="The staff member who verified"),
    starts: str = typer.Option(..., "--from", help="Start of the range (2026-11-01)"),
    ends: str = typer.Option(..., "--until", help="End of the range (a date includes that day)"),
    kinds: str = typer.Option(..., "--kinds", help=f"Data kinds, of: {', '.join(KINDS)}"),
    actor: str | None = as_option(),
) -> None:
    """Enter a lawful request (pending until two other staff approve it)."""
    starts_at, ends_at = _when(starts, end=False), _when(ends, end=True)

    async def body(settings: Settings, db: Database) -> int:
        async with db.write() as tx:
            by = await acting(tx.conn, actor, "lawful create")
            account_id = await account_id_for_username(tx.conn, account)
            if account_id is None:
                raise fail(f"no account named {account}")
            verifier = await account_id_for_username(tx.conn, verified_by)
            if verifier is None:
                raise fail(f"no account named {verified_by}")
            return await actions.create(
                tx,
                by,
                account_id=account_id,
                authority=authority,
                legal_basis=legal_basis,
                verification=verification,
                verified_by_account_id=verifier,
                starts_at=starts_at,
                ends_at=ends_at,
                kinds=actions.parse_kinds(kinds),
            )

    request_id = run_with_db(body)
    typer.echo(f"lawful request {request_id} entered: pending, it needs two approvals")


@lawful_app.command("approve")
def approve(request_id: int = typer.Argument(...), actor: str | None = as_option()) -> None:
    """Approve a lawful request (two staff other than its requester must)."""

    async def body(settings: Settings, db: Database) -> str:
        async with db.write() as tx:
            by = await acting(tx.conn, actor, "lawful approve")
            return await actions.approve(tx, by, request_id)

    state = run_with_db(body)
    typer.echo(f"lawful request {request_id} approved by @{actor}: now {state}")


@lawful_app.command("refuse")
def refuse(
    request_id: int = typer.Argument(...),
    reason: str = typer.Option(..., "--reason", help="Why (recorded)"),
    actor: str | None = as_option(),
) -> None:
    """Refuse a lawful request, with the reason."""

    async def body(settings: Settings, db: Database) -> None:
        async with db.write() as tx:
            by = await acting(tx.conn, actor, "lawful refuse")
            await actions.refuse(tx, by, request_id, reason)

    run_with_db(body)
    typer.echo(f"lawful request {request_id} refused")


@lawful_app.command("package")
def package(
    request_id: int = typer.Argument(...),
    to: Path = typer.Option(..., "--to", help="The directory to copy the package into"),
    actor: str | None = as_option(),
) -> None:
    """Build the disclosure package of an approved request, record it, copy it to DIR."""

    async def body(settings: Settings, db: Database) -> tuple[Path, str]:
        async with db.read() as conn:
            by = await acting(conn, actor, "lawful package")
        return await disclose(db, settings, by, request_id)

    path, sha256 = run_with_db(body)
    try:
        to.mkdir(parents=True, exist_ok=True)
        copied = Path(shutil.copy2(path, to / path.name))
    except OSError as error:
        raise fail(
            f"the package is recorded and kept at {path}, but copying it to {to} failed: {error}"
        ) from None
    typer.echo(f"lawful request {request_id} disclosed: {copied} sha256 {sha256}")
