"""roost email-domains …: e-mail domains nobody may sign up with."""

from __future__ import annotations

import typer

from roost.cli.base import app, run_with_db
from roost.cli.staff import acting, as_option
from roost.config import Settings
from roost.db.engine import Database
from roost.domain.accounts import email_domains

email_domains_app = typer.Typer(
    help="E-mail domains refused at sign-up (subdomains included).", no_args_is_help=True
)
app.add_typer(email_domains_app, name="email-domains")


@email_domains_app.command("block")
def block(
    domain: str = typer.Argument(..., help="e.g. spam.example"), actor: str | None = as_option()
) -> None:
    """Refuse sign-ups with addresses at DOMAIN or any of its subdomains."""

    async def body(settings: Settings, db: Database) -> tuple[str, bool]:
        async with db.write() as tx:
            by = await acting(tx.conn, actor, "email-domains block")
            # The action records its own audit entry, naming ``by``.
            found, new = await email_domains.do_block_email_domain(tx, domain, by=by)
        return found.domain, new

    name, new = run_with_db(body)
    typer.echo(f"blocked {name}" if new else f"{name} was already blocked")


@email_domains_app.command("unblock")
def unblock(
    domain: str = typer.Argument(..., help="A blocked domain"), actor: str | None = as_option()
) -> None:
    """Let sign-ups with addresses at DOMAIN in again."""

    async def body(settings: Settings, db: Database) -> str:
        async with db.write() as tx:
            by = await acting(tx.conn, actor, "email-domains unblock")
            await email_domains.do_unblock_email_domain(tx, domain, by=by)
        return email_domains.normalise(domain)

    typer.echo(f"unblocked {run_with_db(body)}")


@email_domains_app.command("list")
def list_blocks() -> None:
    """Every blocked domain, with when it was blocked."""

    async def body(settings: Settings, db: Database) -> list[email_domains.EmailDomainBlock]:
        async with db.read() as conn:
            return await email_domains.email_domain_block_list(conn)

    found = run_with_db(body)
    if not found:
        typer.echo("no e-mail domains are blocked")
    for block in found:
        typer.echo(f"{block.domain}\tsince {block.created_at.strftime('%Y-%m-%d %H:%M UTC')}")
