"""roost audit …: read and verify the tamper-evident audit log."""

from __future__ import annotations

import json

import typer

from roost.cli.base import app, fail, run_with_db
from roost.cli.staff import acting, as_option
from roost.config import Settings
from roost.db.engine import Database
from roost.domain.audit.chain import Entry, Verdict, entries, verify

audit_app = typer.Typer(help="The audit log of staff actions.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("list")
def list_entries(
    limit: int = typer.Option(50, "--limit", min=1, max=10_000, help="How many, newest first"),
    before: int | None = typer.Option(None, "--before", help="Entries older than this number"),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line"),
    actor: str | None = as_option(),
) -> None:
    """List audit entries, newest first."""

    async def body(settings: Settings, db: Database) -> list[Entry]:
        async with db.read() as conn:
            await acting(conn, actor, "audit list")
            return await entries(conn, limit=limit, before=before)

    found = run_with_db(body)
    if not found and not as_json:
        typer.echo("the audit log is empty")
    for entry in found:
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "seq": entry.seq,
                        "created_at": entry.created_at.isoformat(),
                        "action": entry.action,
                        "permission": entry.permission,
                        "subject_type": entry.subject_type,
                        "subject_id": entry.subject_id,
                        "actor_account_id": entry.actor_account_id,
                        "target_account_id": entry.target_account_id,
                        "details": entry.details,
                        "personal": entry.personal,
                        "erased": entry.erased,
                        "hash": entry.hash,
                    },
                    sort_keys=True,
                )
            )
            continue
        if entry.erased and entry.actor_account_id is None:
            who = "erased"
        elif entry.actor_account_id:
            who = f"account {entry.actor_account_id}"
        else:
            # A refusal by the server itself (a known image) has no actor either.
            who = "the server" if entry.details.get("via") == "automatic" else "console"
        target = f" on account {entry.target_account_id}" if entry.target_account_id else ""
        subject = f" {entry.subject_type} {entry.subject_id}" if entry.subject_id else ""
        typer.echo(
            f"{entry.seq:>6} {entry.created_at:%Y-%m-%d %H:%M:%S} {entry.action}{subject}"
            f"{target} by {who} ({entry.permission}) {json.dumps(entry.details, sort_keys=True)}"
        )


@audit_app.command("verify")
def verify_chain(
    head: str | None = typer.Option(
        None, "--head", help="A head hash to find in the chain (from a backup's manifest)"
    ),
    actor: str | None = as_option(),
) -> None:
    """Check the whole chain: exit 0 when intact, 1 naming the first entry
    changed, removed or reordered."""

    async def body(settings: Settings, db: Database) -> Verdict:
        async with db.read() as conn:
            await acting(conn, actor, "audit verify")
            return await verify(conn, expected_head=head)

    verdict = run_with_db(body)
    if not verdict.intact:
        raise fail(f"audit log broken: {verdict.problem}")
    typer.echo(f"audit log intact: {verdict.count} entries, head {verdict.head}")
