"""Settings, read from ``ROOST_*`` environment variables and validated at start.

A bad value stops Roost before it serves anything, naming the variable and what
it expects: an operator at 4 a.m. should not have to read a traceback.
"""

from __future__ import annotations

import os
import re
import secrets
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Registrations(StrEnum):
    OPEN = "open"
    APPROVAL = "approval"
    CLOSED = "closed"


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ROOST_", extra="ignore", frozen=True)

    data_dir: Path = Field(default=Path("roost-data"))
    database_url: str = ""
    redis_url: str = ""
    domain: str = "localhost:8000"
    public_url: str = ""
    secret_key: str = ""
    registrations: Registrations = Registrations.APPROVAL
    oauth_password_grant: bool = False
    max_post_chars: int = Field(default=500, ge=1, le=100_000)
    db_pool_size: int = Field(default=10, ge=1, le=500)
    db_statement_timeout_ms: int = Field(default=15_000, ge=100)
    instance_title: str = "Roost"
    instance_description: str = "A small, sturdy social network."
    contact_email: str = ""
    sign_in_attempts: int = Field(default=5, ge=1)
    sign_in_window_s: int = Field(default=300, ge=1)
    run_jobs_in_process: bool = True
    # Scaled mode (ROOST_REDIS_URL set): keys are namespaced so several
    # installations (or test runs) can share one Redis.
    redis_prefix: str = Field(default="roost:", min_length=1, max_length=64)
    redis_timeout_ms: int = Field(default=500, ge=10, le=60_000)
    timeline_max_entries: int = Field(default=800, ge=10, le=100_000)
    # Followers who have not read their home timeline for this long get no
    # fan-out; their timeline is rebuilt from the database when they return.
    timeline_active_days: int = Field(default=30, ge=1, le=3650)
    # Accounts with more followers than this are merged into home timelines at
    # read time instead of fanned out on write.
    fanout_max_followers: int = Field(default=10_000, ge=1)
    job_lease_s: int = Field(default=60, ge=1, le=3600)
    # /readyz reports the job queue as failing when a due job has waited longer.
    jobs_ready_max_age_s: int = Field(default=300, ge=1)
    log_format: LogFormat = LogFormat.TEXT
    # Media (roost/media): where files live, what is accepted, how images are
    # cut down. Sizes are in bytes; media_max_image_pixels refuses
    # decompression bombs before any pixel is decoded.
    media_dir: Path | None = None
    media_max_image_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    media_max_video_bytes: int = Field(default=100 * 1024 * 1024, ge=1024)
    media_image_max_dimension: int = Field(default=1920, ge=64, le=16_384)
    media_max_image_pixels: int = Field(default=8192 * 8192, ge=64 * 64)
    # Empty: never run ffmpeg even where it is installed.
    media_ffmpeg: str = "ffmpeg"
    # Backups (roost/ops): where they go, how often the server takes one itself
    # (e.g. "6h", "1d"; empty: never), the key that encrypts those, and how
    # many the scheduled prune keeps. doctor warns past backup_max_age_h.
    backup_dir: Path | None = None
    backup_interval: str = ""
    backup_key_file: Path | None = None
    backup_keep_daily: int = Field(default=7, ge=0, le=3650)
    backup_keep_weekly: int = Field(default=4, ge=0, le=520)
    backup_max_age_h: int = Field(default=26, ge=1)
    # The per-account key store (roost/keys): a SQLite file of its own in
    # embedded mode, the roost_keys table on key_store_url (default: the
    # database) in scaled mode. Never inside a data backup.
    key_store_file: Path | None = None
    key_store_url: str = ""
    # Where pg_dump and pg_restore are, when not on PATH.
    pg_bin_dir: str = ""
    # Disk guard: uploads answer 507 when the media volume has less free space
    # than either limit; text posts go on. doctor warns under disk_warn_free_percent.
    media_min_free_mb: int = Field(default=1024, ge=0)
    media_min_free_percent: float = Field(default=2.0, ge=0, le=90)
    disk_warn_free_percent: float = Field(default=10.0, ge=0, le=99)
    # Twitter imports (roost/importers/twitter): the largest archive upload
    # accepted, and the zip-bomb guards (what all entries may unpack to, and
    # how many times its packed size one entry may unpack to).
    import_max_upload_bytes: int = Field(default=4 << 30, ge=1024)
    import_max_unpacked_bytes: int = Field(default=16 << 30, ge=1024)
    import_max_ratio: int = Field(default=200, ge=2)

    @field_validator("domain")
    @classmethod
    def _domain_is_host(cls, value: str) -> str:
        if not value or "/" in value or " " in value:
            raise ValueError("a host name such as social.example.org (optionally :port)")
        return value.lower()

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql", "postgres")):
            raise ValueError("a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("backup_interval")
    @classmethod
    def _interval(cls, value: str) -> str:
        if value and parse_duration(value) is None:
            raise ValueError("a duration such as 30m, 6h or 1d (at least 1m), or empty for never")
        return value.strip().lower()

    @field_validator("redis_url")
    @classmethod
    def _known_redis(cls, value: str) -> str:
        if value and not value.startswith(
            ("redis://", "rediss://", "unix://", "redis+sentinel://")
        ):
            raise ValueError("a redis:// URL, or redis+sentinel://host:port[,host:port]/service")
        if value.startswith("redis+sentinel://"):
            from roost.redis_link import parse_sentinel_url

            parse_sentinel_url(value)
        return value

    @field_validator("redis_prefix")
    @classmethod
    def _plain_prefix(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9:_.-]+", value):
            raise ValueError("letters, digits and : _ - . only (it starts every Redis key)")
        return value

    @property
    def base_url(self) -> str:
        """Where clients and browsers reach this server."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = self.domain.split(":")[0]
        scheme = "http" if host in {"localhost", "127.0.0.1", "::1"} else "https"
        return f"{scheme}://{self.domain}"

    @property
    def sqlalchemy_url(self) -> str:
        """The async driver URL SQLAlchemy needs for the configured database."""
        url = self.database_url or f"sqlite:///{(self.data_dir / 'roost.sqlite3').resolve()}"
        if url.startswith("sqlite:"):
            return "sqlite+aiosqlite:" + url.removeprefix("sqlite:")
        if url.startswith("postgres://"):
            url = "postgresql://" + url.removeprefix("postgres://")
        if url.startswith("postgresql://"):
            return "postgresql+asyncpg://" + url.removeprefix("postgresql://")
        return url

    @property
    def is_sqlite(self) -> bool:
        return self.sqlalchemy_url.startswith("sqlite")

    @property
    def backup_interval_s(self) -> int | None:
        return parse_duration(self.backup_interval) if self.backup_interval else None

    @property
    def key_store_path(self) -> Path:
        return self.key_store_file or self.data_dir / "keys.sqlite3"

    @property
    def backups_path(self) -> Path:
        return self.backup_dir or self.data_dir / "backups"


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> int | None:
    """ "90m", "6h", "1d" -> seconds; None when malformed or under a minute."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhd])\s*", text.lower())
    if match is None:
        return None
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    return seconds if seconds >= 60 else None


def _describe(error: ValidationError) -> str:
    lines = []
    for problem in error.errors():
        key = "ROOST_" + "_".join(str(part) for part in problem["loc"]).upper()
        lines.append(f"{key}: {problem['msg']} (got {problem.get('input')!r})")
    return "; ".join(lines)


def load_settings(**overrides: Any) -> Settings:
    """Read the environment (plus explicit overrides) and fill in the secret key.

    Raises SettingsError naming each bad variable.
    """
    try:
        settings = Settings(**overrides)
    except ValidationError as error:
        raise SettingsError(_describe(error)) from None
    if not settings.secret_key:
        settings = settings.model_copy(update={"secret_key": _stored_secret(settings.data_dir)})
    return settings


def _stored_secret(data_dir: Path) -> str:
    """The secret key kept in the data directory, created on first use (mode 0600)."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key
