"""roost trends …: what trends now (hashtags, posts, links), and the staff
review that lets an item show in the public trends (or never)."""

from __future__ import annotations

import typer

from roost.cli.base import app, fail, run_with_db
from roost.cli.staff import acting, as_option
from roost.config import Settings
from roost.db.engine import Database
from roost.domain.trends import actions, queries
from roost.domain.trends.queries import Kind
from roost.errors import NotFound

trends_app = typer.Typer(
    help="Trending hashtags, posts and links, and their review.", no_args_is_help=True
)
app.add_typer(trends_app, name="trends")

_KINDS = ", ".join(k.value for k in Kind)


def _kind(name: str) -> Kind:
    try:
        return Kind(name.lower())
    except ValueError:
        raise fail(f"{name!r} is not a kind of trend; one of: {_KINDS}") from None


@trends_app.command("list")
def list_trends(
    kind: str = typer.Option("", "--kind", help=f"Only this kind ({_KINDS})"),
    every: bool = typer.Option(False, "--all", help="Also those already approved or rejected"),
) -> None:
    """What trends now and awaits review (with --all: everything trending)."""
    kinds = [_kind(kind)] if kind else list(Kind)

    async def body(settings: Settings, db: Database) -> list[str]:
        lines: list[str] = []
        async with db.read() as conn:
            for each in kinds:
                trends = await queries.ranked(conn, each)
                decided = await queries.decisions(conn, each, [t.subject_id for t in trends])
                for trend in trends:
                    decision = decided.get(trend.subject_id)
                    if decision is not None and not every:
                        continue
                    shown = await queries.describe(conn, each, trend.subject_id)
                    if shown is None:
                        continue
                    state = {None: "awaiting review", True: "approved", False: "rejected"}
                    lines.append(
                        f"{each.value} {trend.subject_id} score {trend.score:.2f} "
                        f"({trend.accounts} accounts) {shown} [{state[decision]}]"
                    )
        return lines

    lines = run_with_db(body)
    if not lines:
        typer.echo("nothing trends now" if every else "nothing awaits review")
    for line in lines:
        typer.echo(line)


def _decide(kind: str, subject_id: str, approved: bool, actor: str | None) -> None:
    command = "trends approve" if approved else "trends reject"
    chosen = _kind(kind)
    if not subject_id.isdigit():
        raise fail(f"{subject_id!r} is not an id; `roost trends list` shows them")

    async def body(settings: Settings, db: Database) -> bool:
        async with db.write() as tx:
            by = await acting(tx.conn, actor, command)
            try:
                # The review is audited by the action, naming ``by``.
                await actions.do_review(tx, chosen, int(subject_id), approved=approved, by=by)
            except NotFound:
                return False
        return True

    if not run_with_db(body):
        singular = {Kind.TAGS: "hashtag", Kind.STATUSES: "post", Kind.LINKS: "link"}[chosen]
        raise fail(f"there is no {singular} with id {subject_id}")
    verb = "approved" if approved else "rejected"
    typer.echo(f"{verb} {chosen.value} {subject_id}")


@trends_app.command("approve")
def approve(
    kind: str = typer.Argument(..., help=_KINDS),
    subject_id: str = typer.Argument(..., help="The id `roost trends list` shows"),
    actor: str | None = as_option(),
) -> None:
    """Let a trending hashtag, post or link show in the public trends."""
    _decide(kind, subject_id, True, actor)


@trends_app.command("reject")
def reject(
    kind: str = typer.Argument(..., help=_KINDS),
    subject_id: str = typer.Argument(..., help="The id `roost trends list` shows"),
    actor: str | None = as_option(),
) -> None:
    """Keep a hashtag, post or link out of the public trends for good."""
    _decide(kind, subject_id, False, actor)
