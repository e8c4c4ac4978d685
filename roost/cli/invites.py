"""roost invites …: sign-up links that work whatever ROOST_REGISTRATIONS says."""

from __future__ import annotations

from datetime import timedelta

import typer

from roost.cli.base import app, fail, run_with_db
from roost.cli.staff import acting, as_option, audited
from roost.clock import utcnow
from roost.config import Settings, parse_duration
from roost.db.engine import Database
from roost.domain.invites import actions as invite_actions

invites_app = typer.Typer(help="Sign-up invite links.", no_args_is_help=True)
app.add_typer(invites_app, name="invites")


def seconds_of(lifetime: timedelta | None) -> int | None:
    return None if lifetime is None else int(lifetime.total_seconds())


def _link(settings: Settings, code: str) -> str:
    return f"{settings.base_url}/invite/{code}"


@invites_app.command("create")
def create(
    max_uses: int = typer.Option(None, "--max-uses", help="How many sign-ups it allows"),
    expires_in: str = typer.Option(None, "--expires-in", help="How long it works: 30m, 12h, 7d"),
    actor: str | None = as_option(),
) -> None:
    """Make an invite link and print it."""
    lifetime = None
    if expires_in is not None:
        seconds = parse_duration(expires_in)
        if seconds is None:
            raise fail(f"--expires-in {expires_in!r} is not a duration; use e.g. 30m, 12h or 7d")
        lifetime = timedelta(seconds=seconds)
    if max_uses is not None and max_uses < 1:
        raise fail("--max-uses must be at least 1 (leave it out for no limit)")

    async def body(settings: Settings, db: Database) -> str:
        async with db.write() as tx:
            by = await acting(tx.conn, actor, "invites create")
            invite = await invite_actions.do_create_invite(
                tx, created_by=by.account_id, max_uses=max_uses, expires_in=lifetime
            )
            await audited(
                tx, by, "invites create", action="invite.create", subject_type="invite",
                details={"max_uses": max_uses, "expires_in_s": seconds_of(lifetime)},
            )  # fmt: skip
        return _link(settings, invite.code)

    typer.echo(run_with_db(body))


@invites_app.command("list")
def list_invites() -> None:
    """Every invite: its link, uses, expiry, and whether it still works."""

    async def body(settings: Settings, db: Database) -> list[str]:
        async with db.read() as conn:
            found = await invite_actions.all_invites(conn)
        now = utcnow()
        lines = []
        for invite in found:
            limit = "unlimited" if invite.max_uses is None else str(invite.max_uses)
            expiry = (
                invite.expires_at.strftime("%Y-%m-%d %H:%M UTC") if invite.expires_at else "never"
            )
            state = "usable" if invite.usable(now) else "revoked" if invite.revoked_at else "spent"
            lines.append(
                f"{invite.code}  {state:<7} uses {invite.uses}/{limit}  expires {expiry}  "
                f"{_link(settings, invite.code)}"
            )
        return lines

    lines = run_with_db(body)
    typer.echo("\n".join(lines) if lines else "no invites; make one with `roost invites create`")


@invites_app.command("revoke")
def revoke(
    code: str = typer.Argument(..., help="The invite's code (the end of its link)"),
    actor: str | None = as_option(),
) -> None:
    """Stop an invite link from working."""
    code = code.rstrip("/").rsplit("/", 1)[-1]

    async def body(settings: Settings, db: Database) -> None:
        async with db.write() as tx:
            by = await acting(tx.conn, actor, "invites revoke")
            await invite_actions.do_revoke_invite(tx, code)
            await audited(tx, by, "invites revoke", action="invite.revoke", subject_type="invite")

    run_with_db(body)
    typer.echo(f"revoked invite {code}")
