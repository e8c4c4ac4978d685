"""roost ip-blocks …, roost domain-blocks … and roost domain-allows …: the
instance-wide blocks (and the servers allowed, which the allow-list mode of
federation, ROOST_FEDERATION_MODE=allowlist, federates with alone)
staff otherwise keep through the admin API (roost/domain/blocks), from the
console; each change is in the audit log as ``console``, or as the staff
member named with ``--as`` (whose role must grant ``manage_blocks``, or
``manage_federation`` for domain blocks). A running server
sees an IP block made here within 10 seconds."""

from __future__ import annotations

import typer

from roost.cli.base import app, run_with_db
from roost.cli.staff import acting, as_option
from roost.config import Settings
from roost.db.engine import Database
from roost.domain.blocks import domains
from roost.domain.blocks import ip as ip_blocks
from roost.domain.types import Page

ip_app = typer.Typer(
    help="Address ranges held back at sign-up or refused outright.", no_args_is_help=True
)
domain_app = typer.Typer(
    help="Other servers limited or refused (kept for federation).", no_args_is_help=True
)
allow_app = typer.Typer(
    help="Other servers allowed (in the allow-list mode, the only ones federated with).",
    no_args_is_help=True,
)
app.add_typer(ip_app, name="ip-blocks")
app.add_typer(domain_app, name="domain-blocks")
app.add_typer(allow_app, name="domain-allows")

_ALL = Page(max_id=None, since_id=None, min_id=None, limit=10_000)


@ip_app.command("add")
def add_ip_block(
    ip: str = typer.Argument(..., help="An address or a CIDR range, e.g. 192.0.2.0/24"),
    severity: str = typer.Option(..., help="sign_up_requires_approval, sign_up_block or no_access"),
    comment: str = typer.Option("", help="Why, for staff"),
    expires_in: int = typer.Option(0, help="Seconds until it lapses (0: never)"),
    actor: str | None = as_option(),
) -> None:
    """Block IP (an address or a range)."""

    async def body(settings: Settings, db: Database) -> ip_blocks.IpBlock:
        async with db.write() as tx:
            by = await acting(tx.conn, actor, "ip-blocks add")
            return await ip_blocks.do_block_ip(
                tx, ip_blocks.IpBlockChange(ip, severity, comment, expires_in), by
            )

    block = run_with_db(body)
    typer.echo(f"blocked {block.ip} ({block.severity}), id {block.id}")


@ip_app.command("remove")
def remove_ip_block(
    block_id: int = typer.Argument(..., help="The block's id"),
    actor: str | None = as_option(),
) -> None:
    """Lift an IP block."""

    async def body(settings: Settings, db: Database) -> ip_blocks.IpBlock:
        async with db.write() as tx:
            by = await acting(tx.conn, actor, "ip-blocks remove")
            return await ip_blocks.do_unblock_ip(tx, block_id, by)

    typer.echo(f"unblocked {run_with_db(body).ip}")


@ip_app.command("list")
def list_ip_blocks() -> None:
    """Every IP block in force, newest first."""

    async def body(settings: Settings, db: Database) -> list[ip_blocks.IpBlock]:
        async with db.read() as conn:
            return (await ip_blocks.ip_block_list(conn, _ALL))[0]

    found = run_with_db(body)
    if not found:
        typer.echo("no IP blocks")
    for b in found:
        until = b.expires_at.strftime("%Y-%m-%d %H:%M UTC") if b.expires_at else "never"
        typer.echo(f"{b.id}\t{b.ip}\t{b.severity}\tuntil {until}\t{b.comment}")


@domain_app.command("add")
def add_domain_block(
    domain: str = typer.Argument(..., help="e.g. spam.example (its subdomains too)"),
    severity: str = typer.Option("silence", help="silence, suspend or noop"),
    reject_media: bool = typer.Option(False, help="Refuse its media files"),
    reject_reports: bool = typer.Option(False, help="Ignore its reports"),
    public_comment: str = typer.Option("", help="Shown in the public list"),
    private_comment: str = typer.Option("", help="For staff"),
    obfuscate: bool = typer.Option(False, help="Partly hide the domain in the public list"),
    actor: str | None = as_option(),
) -> None:
    """Block another server."""

    async def body(settings: Settings, db: Database) -> domains.DomainBlock:
        async with db.write() as tx:
            by = await acting(tx.conn, actor, "domain-blocks add")
            return await domains.do_block_domain(
                tx,
                domain,
                domains.BlockChange(
                    severity=severity,
                    reject_media=reject_media,
                    reject_reports=reject_reports,
                    private_comment=private_comment,
                    public_comment=public_comment,
                    obfuscate=obfuscate,
                ),
                by,
            )

    block = run_with_db(body)
    typer.echo(f"blocked {block.domain} ({block.severity}), id {block.id}")


@domain_app.command("remove")
def remove_domain_block(
    block_id: int = typer.Argument(..., help="The block's id"),
    actor: str | None = as_option(),
) -> None:
    """Lift a domain block."""

    async def body(settings: Settings, db: Database) -> domains.DomainBlock:
        async with db.write() as tx:
            by = await acting(tx.conn, actor, "domain-blocks remove")
            return await domains.do_unblock_domain(tx, block_id, by)

    typer.echo(f"unblocked {run_with_db(body).domain}")


@domain_app.command("list")
def list_domain_blocks() -> None:
    """Every domain block, newest first."""

    async def body(settings: Settings, db: Database) -> list[domains.DomainBlock]:
        async with db.read() as conn:
            return (await domains.domain_blocks(conn, _ALL))[0]

    found = run_with_db(body)
    if not found:
        typer.echo("no domain blocks")
    for b in found:
        flags = [f for f in ("reject_media", "reject_reports", "obfuscate") if getattr(b, f)]
        typer.echo(f"{b.id}\t{b.domain}\t{b.severity}\t{' '.join(flags)}".rstrip())


@allow_app.command("add")
def add_domain_allow(
    domain: str = typer.Argument(..., help="e.g. friends.example (its subdomains too)"),
    actor: str | None = as_option(),
) -> None:
    """Allow another server."""

    async def body(settings: Settings, db: Database) -> domains.DomainAllow:
        async with db.write() as tx:
            by = await acting(tx.conn, actor, "domain-allows add")
            return await domains.do_allow_domain(tx, domain, by)

    allow = run_with_db(body)
    typer.echo(f"allowed {allow.domain}, id {allow.id}")


@allow_app.command("remove")
def remove_domain_allow(
    allow_id: int = typer.Argument(..., help="The allow's id"),
    actor: str | None = as_option(),
) -> None:
    """Take a server off the allowed ones."""

    async def body(settings: Settings, db: Database) -> domains.DomainAllow:
        async with db.write() as tx:
            by = await acting(tx.conn, actor, "domain-allows remove")
            return await domains.do_disallow_domain(tx, allow_id, by)

    typer.echo(f"no longer allowed: {run_with_db(body).domain}")


@allow_app.command("list")
def list_domain_allows() -> None:
    """Every allowed server, newest first, and whether the allow-list mode is on."""

    async def body(settings: Settings, db: Database) -> tuple[bool, list[domains.DomainAllow]]:
        async with db.read() as conn:
            return settings.allowlist_federation, (await domains.domain_allows(conn, _ALL))[0]

    on, found = run_with_db(body)
    typer.echo(f"federation mode: {'allowlist' if on else 'open'}")
    if not found:
        typer.echo("no allowed servers")
    for a in found:
        typer.echo(f"{a.id}\t{a.domain}")
