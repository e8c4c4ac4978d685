"""roost announcements add | list | remove"""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.console import Console
from rich.table import Table

from roost.cli.base import app, fail, run_with_db
from roost.cli.staff import acting, as_option, audited
from roost.config import Settings
from roost.db.engine import Database
from roost.domain.announcements import actions
from roost.domain.announcements.queries import AnnouncementView, all_announcements

announcements_app = typer.Typer(help="Announcements shown to everyone.", no_args_is_help=True)
app.add_typer(announcements_app, name="announcements")


def _moment(value: str, option: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise fail(f"{option} takes a date or time like 2025-03-01 or 2025-03-01T18:00") from None
    # A time without a zone is UTC, like every time Roost stores.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@announcements_app.command("add")
def add(
    text: str = typer.Argument(..., help="The announcement; links and #hashtags are linked"),
    starts_at: str = typer.Option("", "--starts-at", help="When it starts (UTC unless given)"),
    ends_at: str = typer.Option("", "--ends-at", help="When it ends (UTC unless given)"),
    all_day: bool = typer.Option(False, "--all-day", help="Show only the dates, not times"),
    actor: str | None = as_option(),
) -> None:
    """Publish an announcement to everyone signed in."""
    new = actions.NewAnnouncement(
        text=text,
        starts_at=_moment(starts_at, "--starts-at"),
        ends_at=_moment(ends_at, "--ends-at"),
        all_day=all_day,
    )

    async def body(settings: Settings, db: Database) -> int:
        async with db.write() as tx:
            by = await acting(tx.conn, actor, "announcements add")
            made = await actions.do_add_announcement(tx, new, base_url=settings.base_url)
            await audited(
                tx, by, "announcements add", action="announcement.create",
                subject_type="announcement", subject_id=made, personal={"text": new.text},
            )  # fmt: skip
            return made

    typer.echo(f"published announcement {run_with_db(body)}")


@announcements_app.command("list")
def list_announcements() -> None:
    """Every announcement, past, running and future."""

    async def body(settings: Settings, db: Database) -> list[AnnouncementView]:
        async with db.read() as conn:
            return await all_announcements(conn)

    found = run_with_db(body)
    if not found:
        typer.echo("no announcements")
        return
    table = Table("id", "starts", "ends", "text")
    for a in found:
        table.add_row(
            str(a.id),
            a.starts_at.isoformat() if a.starts_at else "-",
            a.ends_at.isoformat() if a.ends_at else "-",
            a.text if len(a.text) <= 60 else a.text[:59] + "…",
        )
    Console().print(table)


@announcements_app.command("remove")
def remove(
    announcement_id: int = typer.Argument(..., help="The announcement's id"),
    actor: str | None = as_option(),
) -> None:
    """Withdraw an announcement (with its reactions and read marks)."""

    async def body(settings: Settings, db: Database) -> None:
        async with db.write() as tx:
            by = await acting(tx.conn, actor, "announcements remove")
            await actions.do_remove_announcement(tx, announcement_id)
            await audited(
                tx, by, "announcements remove", action="announcement.remove",
                subject_type="announcement", subject_id=announcement_id,
            )  # fmt: skip

    run_with_db(body)
    typer.echo(f"removed announcement {announcement_id}")
