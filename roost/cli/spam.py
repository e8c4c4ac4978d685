"""roost spam …: clusters of near-duplicate new posts, and one action on a
whole cluster (docs/abuse.md, "Spam waves")."""

from __future__ import annotations

import typer

from roost.cli.base import app, fail, run_with_db
from roost.cli.staff import acting, as_option
from roost.config import Settings
from roost.db.engine import Database
from roost.domain.spam import actions
from roost.domain.spam.actions import ClusterDetail, ClusterSummary, Decision

spam_app = typer.Typer(
    help="Spam waves: clusters of near-duplicate new posts.", no_args_is_help=True
)
app.add_typer(spam_app, name="spam")


def _summary(c: ClusterSummary) -> str:
    when = f"{c.first_at:%Y-%m-%d %H:%M} to {c.last_at:%H:%M}" if c.first_at and c.last_at else ""
    domains = f" links: {', '.join(c.domains)}" if c.domains else ""
    held = f", {c.held} held" if c.held else ""
    return (
        f"{c.id} {c.state:<9} {c.size} posts by {c.accounts} accounts "
        f"({c.new_accounts} new){held} {when}{domains}"
    )


@spam_app.command("clusters")
def clusters(
    every: bool = typer.Option(False, "--all", help="Also clusters already decided, any size"),
    actor: str | None = as_option(),
) -> None:
    """List the open clusters staff should look at, largest first."""

    async def body(settings: Settings, db: Database) -> list[ClusterSummary]:
        async with db.read() as conn:
            by = await acting(conn, actor, "spam clusters")
            return await actions.clusters(
                conn,
                by,
                min_size=settings.spam_cluster_min_size,
                new_account_days=settings.spam_new_account_days,
                every_state=every,
            )

    found = run_with_db(body)
    if not found:
        typer.echo("no spam clusters")
    for c in found:
        typer.echo(_summary(c))
        if c.sample:
            typer.echo(f"    {c.sample!r}")


@spam_app.command("show")
def show(cluster_id: int = typer.Argument(...), actor: str | None = as_option()) -> None:
    """Show one cluster's posts."""

    async def body(settings: Settings, db: Database) -> ClusterDetail:
        async with db.read() as conn:
            by = await acting(conn, actor, "spam show")
            return await actions.cluster(
                conn, by, cluster_id, new_account_days=settings.spam_new_account_days
            )

    found = run_with_db(body)
    typer.echo(_summary(found.summary))
    for p in found.posts:
        held = " held" if p.held else ""
        words = repr(p.text[:120]) if p.text is not None else "(not public)"
        typer.echo(f"  {p.status_id} @{p.username} {p.created_at:%Y-%m-%d %H:%M}{held} {words}")


@spam_app.command("act")
def act(
    cluster_id: int = typer.Argument(...),
    suspend: bool = typer.Option(False, "--suspend", help="Suspend every account in it"),
    delete: bool = typer.Option(False, "--delete", help="Delete every post in it"),
    not_spam: bool = typer.Option(
        False, "--not-spam", help="Mark it not spam (releases its held posts)"
    ),
    actor: str | None = as_option(),
) -> None:
    """Act on a whole cluster: one of --suspend, --delete, --not-spam."""
    chosen = [
        d
        for d, on in (
            (Decision.SUSPEND, suspend),
            (Decision.DELETE, delete),
            (Decision.NOT_SPAM, not_spam),
        )
        if on
    ]
    if len(chosen) != 1:
        raise fail("say what to do: exactly one of --suspend, --delete, --not-spam")
    decision = chosen[0]

    async def body(settings: Settings, db: Database) -> int:
        async with db.write() as tx:
            by = await acting(tx.conn, actor, "spam act")
            return await actions.act(tx, by, cluster_id, decision)

    done = run_with_db(body)
    what = {
        Decision.SUSPEND: f"{done} accounts suspended",
        Decision.DELETE: f"{done} posts deleted",
        Decision.NOT_SPAM: f"marked not spam, {done} held posts released",
    }[decision]
    typer.echo(f"spam cluster {cluster_id}: {what}")
