"""Settings, read from ``ROOST_*`` environment variables and validated at start.

A bad value stops Roost before it serves anything, naming the variable and what
it expects: an operator at 4 a.m. should not have to read a traceback.
"""

from __future__ import annotations

import os
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

    @field_validator("redis_url")
    @classmethod
    def _known_redis(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("a redis:// URL")
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
