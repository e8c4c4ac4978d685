"""Service addresses in the settings (``ROOST_SMTP_URL``, a Sentinel
``ROOST_REDIS_URL``, a PostgreSQL ``ROOST_DATABASE_URL`` for libpq's tools),
parsed without connecting: the settings check them at start, and the mail
sender, the Redis link, the key store and the backup tools read them the same
way."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

SENTINEL_SCHEME = "redis+sentinel://"


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str | None
    password: str | None

    def __repr__(self) -> str:  # never show the password
        return f"SmtpTarget({self.host}:{self.port}, tls={self.implicit_tls or self.starttls})"


def parse_smtp_url(url: str) -> SmtpTarget:
    """Raises ValueError naming what is wrong (never echoing the URL)."""
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtps"}:
        raise ValueError("an smtp:// or smtps:// URL")
    if not parts.hostname:
        raise ValueError("an smtp:// or smtps:// URL with a host name")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("a port number between 1 and 65535") from None
    query = {k.lower(): v[-1].lower() for k, v in parse_qs(parts.query).items()}
    unknown = set(query) - {"starttls"}
    if unknown:
        raise ValueError(f"only the starttls option is known, not {', '.join(sorted(unknown))}")
    starttls = query.get("starttls", "false") in {"1", "true", "yes", "on"}
    implicit = parts.scheme == "smtps"
    if implicit and starttls:
        raise ValueError("smtps:// is TLS already; starttls is for smtp://")
    return SmtpTarget(
        host=parts.hostname,
        port=port or (465 if implicit else (587 if starttls else 25)),
        implicit_tls=implicit,
        starttls=starttls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


def parse_sentinel_url(url: str) -> tuple[list[tuple[str, int]], str, int, str | None]:
    """``redis+sentinel://[:password@]host:port[,host:port...]/service[/db]`` ->
    the sentinels, the monitored service's name, the db number, the password."""
    rest = url.removeprefix(SENTINEL_SCHEME)
    password = None
    if "@" in rest:
        secret, rest = rest.rsplit("@", 1)
        password = unquote(secret.removeprefix(":")) or None
    hosts, _, path = rest.partition("/")
    service, _, db = path.partition("/")
    if not hosts or not service:
        raise ValueError("redis+sentinel://host:port[,host:port]/service[/db]")
    sentinels = []
    for host in hosts.split(","):
        name, _, port = host.rpartition(":")
        sentinels.append((name or host, int(port) if name else 26379))
    return sentinels, service, int(db or 0), password


@dataclass(frozen=True)
class Connection:
    """A libpq connection string without the password, and the password apart
    (handed over in the environment, so it never shows in a process list)."""

    dsn: str
    password: str | None

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.password is not None:
            env["PGPASSWORD"] = self.password
        return env


def connection(url: str) -> Connection:
    for prefix in ("postgresql+asyncpg://", "postgres://"):
        if url.startswith(prefix):
            url = "postgresql://" + url.removeprefix(prefix)
    parts = urlsplit(url)
    password = unquote(parts.password) if parts.password is not None else None
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    return Connection(urlunsplit(parts._replace(netloc=netloc)), password)


def with_database(url: str, name: str) -> str:
    """The same server, another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))
