"""``roost doctor``: the first command of every runbook.

Each check answers ok, warn, fail or skip with one line of detail and the
numbers behind it (``--json``). Any fail makes the command exit non-zero, so
it can gate a deploy or page someone. A check that cannot run (a timeout, an
unexpected error) is a fail that says so, never a silent pass.
"""

from __future__ import annotations

import asyncio
import json
import smtplib
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

from roost.clock import utcnow
from roost.config import Settings
from roost.db.migrate import schema_status
from roost.errors import Unavailable
from roost.jobs.queue import job_backlog
from roost.media.store import media_root, media_store
from roost.ops import disk, netchecks
from roost.ops.backup import VERIFIED_SUFFIX, list_backups
from roost.services import Services, build_services

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"
CHECK_TIMEOUT_S = 15.0
VERIFY_MAX_AGE = timedelta(days=7)
FORECAST_WARN_DAYS = 14.0
FORECAST_FAIL_DAYS = 3.0
CERT_WARN_DAYS = 21
CERT_FAIL_DAYS = 7


@dataclass
class Check:
    name: str
    status: str
    detail: str
    data: dict[str, Any] = field(default_factory=dict)


def _mib(n: float) -> str:
    return f"{n / 2**20:,.1f} MiB"


async def check_disk(svc: Services) -> Check:
    settings = svc.settings
    history = await asyncio.to_thread(disk.record_sample, settings)
    sizes = dict(history[-1].sizes)
    if not settings.is_sqlite:
        async with svc.db.read() as conn:
            sizes["database"] = int(
                (
                    await conn.execute(text("SELECT pg_database_size(current_database())"))
                ).scalar_one()
            )
    grew = disk.growth(history)
    free = disk.space(settings.data_dir).free
    parts = ", ".join(f"{name} {_mib(size)}" for name, size in sorted(sizes.items()) if size)
    data: dict[str, Any] = {"bytes": sizes, "free_bytes": free}
    if grew is None:
        return Check("disk use", OK, f"{parts or 'empty'}; growth: not enough history yet", data)
    data["growth_bytes_per_day"] = {k: round(v) for k, v in grew.per_day.items()}
    culprit = max(grew.per_day, key=lambda k: grew.per_day[k])
    days = grew.days_until_full(free)
    data["days_until_full"] = None if days is None else round(days, 1)
    trend = f"fastest growing: {culprit} (+{_mib(max(0.0, grew.per_day[culprit]))}/day)"
    if days is None:
        return Check("disk use", OK, f"{parts}; {trend}; free space is not shrinking", data)
    status = FAIL if days < FORECAST_FAIL_DAYS else WARN if days < FORECAST_WARN_DAYS else OK
    return Check("disk use", status, f"{parts}; {trend}; full in about {days:.0f} days", data)


async def check_free_space(svc: Services) -> Check:
    settings = svc.settings
    volumes = {"data": disk.space(settings.data_dir), "media": disk.space(media_root(settings))}
    if settings.database_file is not None:
        volumes["database"] = disk.space(settings.database_file)
    data: dict[str, Any] = {
        name: {"free_bytes": v.free, "free_percent": round(v.free_percent, 1)}
        for name, v in volumes.items()
    }
    detail = ", ".join(
        f"{n}: {_mib(v.free)} free ({v.free_percent:.1f}%)" for n, v in volumes.items()
    )
    database_full = svc.db.storage.volume_full()
    if database_full is not None:
        data["database_writable"] = False
        return Check(
            "free space",
            FAIL,
            f"{detail}; the database's volume is full: writes are refused (507) "
            f"until space is freed ({database_full})",
            data,
        )
    problem = disk.media_space_problem(settings)
    if problem is not None:
        return Check("free space", FAIL, f"{detail}; uploads are refused (507)", data)
    if any(v.free_percent < settings.disk_warn_free_percent for v in volumes.values()):
        return Check(
            "free space", WARN, f"{detail}; under {settings.disk_warn_free_percent:g}%", data
        )
    return Check("free space", OK, detail, data)


async def check_database(svc: Services) -> Check:
    async with svc.db.read() as conn:
        await conn.execute(text("SELECT 1"))
    status = await schema_status(svc.db)
    data = {"revision": status.current, "head": status.head, "pending": status.pending}
    if not status.known:
        return Check(
            "database", FAIL, f"schema {status.current} is newer than this release knows", data
        )
    if status.pending:
        return Check(
            "database", FAIL, f"reachable; {len(status.pending)} migration(s) pending", data
        )
    return Check("database", OK, f"reachable; schema {status.current} is current", data)


async def check_redis(svc: Services) -> Check:
    if svc.redis is None:
        return Check("redis", SKIP, "not configured (embedded mode)")
    if await svc.redis.ping():
        return Check("redis", OK, "answers")
    return Check("redis", FAIL, "does not answer; timelines are served from the database")


async def check_jobs(svc: Services) -> Check:
    backlog = await job_backlog(svc.db)
    data = asdict(backlog)
    detail = (
        f"{backlog.queued} queued, {backlog.parked} parked, "
        f"oldest due waiting {backlog.oldest_due_s:.0f}s"
    )
    if backlog.oldest_due_s > svc.settings.jobs_ready_max_age_s:
        return Check("jobs", FAIL, detail + " (are workers running?)", data)
    if backlog.parked:
        return Check("jobs", WARN, detail + " (see `roost jobs list --parked`)", data)
    return Check("jobs", OK, detail, data)


async def check_backups(svc: Services) -> Check:
    settings = svc.settings
    backups = list_backups(settings.backups_path)
    if not backups:
        return Check(
            "backups", FAIL, f"no backup in {settings.backups_path} (run `roost backup create`)"
        )
    now = utcnow()
    age_h = (now - backups[0].taken_at).total_seconds() / 3600
    verified = [b for b in backups if b.path.with_name(b.path.name + VERIFIED_SUFFIX).is_file()]
    data: dict[str, Any] = {"newest": backups[0].path.name, "age_hours": round(age_h, 1)}
    detail = f"newest {backups[0].path.name}, {age_h:.1f} h old"
    status = OK
    if age_h > settings.backup_max_age_h:
        status = FAIL
        detail += f" (older than ROOST_BACKUP_MAX_AGE_H={settings.backup_max_age_h})"
    if not verified:
        return Check("backups", FAIL if status == FAIL else WARN, detail + "; never verified", data)
    record = json.loads(
        verified[0].path.with_name(verified[0].path.name + VERIFIED_SUFFIX).read_text()
    )
    verified_age = now - datetime.fromisoformat(record["verified_at"])
    data["last_verified"] = {"backup": verified[0].path.name, "at": record["verified_at"]}
    detail += f"; last verify {verified_age.total_seconds() / 86400:.1f} days ago"
    if verified_age > VERIFY_MAX_AGE and status == OK:
        status = WARN
    return Check("backups", status, detail, data)


async def check_dns(svc: Services) -> Check:
    """Does the domain resolve, and only to this server (ROOST_PUBLIC_ADDRESSES)?
    A record that moved elsewhere sends every client and peer to another
    machine; one extra address sends some of them."""
    settings = svc.settings
    host, _ = netchecks.host_and_port(settings.domain)
    if netchecks.is_local(host):
        return Check("dns", SKIP, f"{host} is local")
    nameserver = settings.dns_resolver_address
    asked = f" (asked {nameserver[0]}:{nameserver[1]})" if nameserver else ""
    try:
        addresses = await netchecks.resolve(host, nameserver)
    except (OSError, TimeoutError) as error:
        return Check("dns", FAIL, f"{host} does not resolve{asked}: {error or 'no answer'}")
    ours = settings.public_address_set
    data: dict[str, Any] = {"addresses": addresses, "expected": sorted(ours)}
    detail = f"{host} -> {', '.join(addresses)}{asked}"
    if not ours:
        return Check(
            "dns", OK, detail + "; set ROOST_PUBLIC_ADDRESSES to check they are this server", data
        )
    strangers = [a for a in addresses if a not in ours]
    data["elsewhere"] = strangers
    if len(strangers) == len(addresses):
        return Check(
            "dns",
            FAIL,
            f"{detail}: not this server (ROOST_PUBLIC_ADDRESSES={','.join(sorted(ours))}); "
            "clients and peers reach another machine",
            data,
        )
    if strangers:
        return Check(
            "dns",
            WARN,
            f"{detail}: {', '.join(strangers)} is not this server; some clients reach it",
            data,
        )
    return Check("dns", OK, detail + ": this server", data)


async def check_tls(svc: Services) -> Check:
    """The certificate served at the public address: WARN from CERT_WARN_DAYS
    before it expires (renewal normally happens a month ahead, so this means
    renewal is failing), FAIL from CERT_FAIL_DAYS, once expired, or when it
    does not verify for the domain."""
    url = svc.settings.base_url
    if not url.startswith("https://"):
        return Check("tls", SKIP, "not served over HTTPS")
    default = url.removeprefix("https://").split("/", 1)[0]
    host, port = netchecks.host_and_port(default)
    try:
        cert = await netchecks.certificate(host, port)
    except (OSError, TimeoutError) as error:
        return Check("tls", FAIL, f"no TLS answer from {host}:{port} ({error})")
    days = (cert.not_after - utcnow()).total_seconds() / 86400
    data = {
        "expires": cert.not_after.isoformat(),
        "days_left": round(days, 1),
        "verifies": cert.verifies,
    }
    detail = f"certificate of {host} expires {cert.not_after:%Y-%m-%d %H:%M} UTC ({days:.0f} days)"
    if days < 0:
        detail = f"certificate of {host} expired {cert.not_after:%Y-%m-%d %H:%M} UTC"
        return Check("tls", FAIL, f"{detail}: browsers, apps and peers refuse it", data)
    if not cert.verifies:
        return Check("tls", FAIL, f"{detail}; it does not verify: {cert.problem}", data)
    if days < CERT_FAIL_DAYS:
        return Check("tls", FAIL, f"{detail}: renewal has failed; renew now", data)
    if days < CERT_WARN_DAYS:
        return Check("tls", WARN, f"{detail}: renewal is overdue", data)
    return Check("tls", OK, detail, data)


async def check_mail(svc: Services) -> Check:
    from roost.mail.smtp import probe

    settings = svc.settings
    if not settings.smtp_url:
        return Check(
            "mail",
            WARN,
            "ROOST_SMTP_URL is not set: confirmation and password-reset links cannot be "
            "mailed (confirm accounts with `roost accounts confirm NAME`)",
        )
    try:
        said = await probe(settings.smtp_url, min(settings.smtp_timeout_s, 10.0))
    except (OSError, smtplib.SMTPException) as error:
        return Check("mail", FAIL, f"the SMTP server does not answer as it should: {error}")
    return Check("mail", OK, said)


async def check_media_store(svc: Services) -> Check:
    """The bucket answers to Roost's credentials (media on object storage)."""
    settings = svc.settings
    if settings.media_store != "s3":
        return Check("media store", SKIP, f"local directory {media_root(settings)}")
    from roost.media.s3 import S3MediaStore

    store = media_store(settings)
    assert isinstance(store, S3MediaStore)
    where = f"bucket {settings.s3_bucket} at {settings.s3_endpoint}"
    try:
        await store.check()
    except Unavailable:
        return Check("media store", FAIL, f"{where} does not answer to Roost's credentials")
    return Check("media store", OK, f"{where} answers")


CHECKS: list[tuple[str, Callable[[Services], Awaitable[Check]]]] = [
    ("disk use", check_disk),
    ("free space", check_free_space),
    ("database", check_database),
    ("redis", check_redis),
    ("jobs", check_jobs),
    ("backups", check_backups),
    ("tls", check_tls),
    ("dns", check_dns),
    ("mail", check_mail),
    ("media store", check_media_store),
]


async def _guarded(
    name: str, check: Callable[[Services], Awaitable[Check]], svc: Services
) -> Check:
    try:
        return await asyncio.wait_for(check(svc), CHECK_TIMEOUT_S)
    except TimeoutError:
        return Check(name, FAIL, f"no answer within {CHECK_TIMEOUT_S:g}s")
    except Exception as error:
        message = getattr(error, "message", None) or str(error) or type(error).__name__
        return Check(name, FAIL, f"could not check: {message}")


async def run_checks(svc: Services) -> list[Check]:
    """Every check, on services already running (the staff pages' doctor page)."""
    return list(await asyncio.gather(*(_guarded(n, c, svc) for n, c in CHECKS)))


async def run_doctor(settings: Settings) -> list[Check]:
    svc = build_services(settings)
    try:
        return await run_checks(svc)
    finally:
        await svc.close()
