"""Settings, read from ``ROOST_*`` environment variables and validated at start.

A bad value stops Roost before it serves anything, naming the variable and what
it expects: an operator at 4 a.m. should not have to read a traceback.

Above 500 lines: every setting lives in the one ``Settings`` class, each with
the comment an operator needs, so that one file answers "what can I set?".
"""

from __future__ import annotations

import os
import re
import secrets
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
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
    # Who may read the instance's domain blocks (GET /api/v1/instance/domain_blocks):
    # "all", "users" (signed in) or "disabled", as Mastodon's setting.
    show_domain_blocks: Literal["all", "users", "disabled"] = "all"
    # Password checks per window (roost/domain/accounts/sign_in.py): strict for one
    # address on one account, looser for one account from anywhere and for one
    # address on any account.
    sign_in_attempts: int = Field(default=5, ge=1)
    sign_in_account_attempts: int = Field(default=50, ge=1)
    sign_in_address_attempts: int = Field(default=50, ge=1)
    sign_in_window_s: int = Field(default=300, ge=1)
    # API rate limits (roost/api/ratelimits.py), as Mastodon's: requests per
    # account (or per address without a token) and per address whatever the
    # token, then media uploads, post deletions and follows per account and
    # sign-ups per address; each "N per window". 0 turns a limit off.
    rate_limit_requests: int = Field(default=300, ge=0)
    rate_limit_window_s: int = Field(default=300, ge=1)
    rate_limit_address_requests: int = Field(default=7500, ge=0)
    rate_limit_media: int = Field(default=30, ge=0)
    rate_limit_media_window_s: int = Field(default=1800, ge=1)
    rate_limit_deletes: int = Field(default=30, ge=0)
    rate_limit_deletes_window_s: int = Field(default=1800, ge=1)
    rate_limit_follows: int = Field(default=400, ge=0)
    rate_limit_follows_window_s: int = Field(default=86400, ge=1)
    rate_limit_sign_ups: int = Field(default=5, ge=0)
    rate_limit_sign_ups_window_s: int = Field(default=1800, ge=1)
    # Who is never limited: administrators, and the apps with these client
    # ids (comma-separated), e.g. a trusted bridge.
    rate_limit_exempt_staff: bool = False
    rate_limit_exempt_apps: str = ""
    # Quotas (roost/domain/media/quotas.py): bytes one account may upload in
    # a day (429 past it), and bytes of media the whole instance may store
    # (uploads answer 507 past it; text posts go on). 0: no quota.
    upload_quota_bytes_per_day: int = Field(default=1 << 30, ge=0)
    media_budget_bytes: int = Field(default=0, ge=0)
    # The moderation queue (roost/domain/reports/exposure.py): reports opened
    # and media revealed per moderator per UTC day after which the queue
    # suggests a break and assigns them no more reports. 0: no limit.
    moderation_daily_limit: int = Field(default=60, ge=0, le=100_000)
    # Spam waves (roost/domain/spam, docs/abuse.md): near-duplicate new posts
    # are clustered by a job after posting; a cluster of at least
    # spam_cluster_min_size posts is shown to staff. Posts count as near
    # duplicates at an estimated Jaccard similarity of spam_similarity or
    # more, within spam_window_hours of each other; accounts younger than
    # spam_new_account_days add their sign-up features. With
    # spam_hold_cluster_size above 0, posts in a cluster that large from
    # accounts younger than spam_hold_account_days are held (shown to their
    # author only) until staff decide.
    spam_clustering: bool = True
    spam_similarity: float = Field(default=0.5, ge=0.05, le=1.0)
    spam_cluster_min_size: int = Field(default=5, ge=2)
    spam_window_hours: int = Field(default=48, ge=1, le=24 * 90)
    spam_new_account_days: int = Field(default=7, ge=0)
    spam_hold_cluster_size: int = Field(default=0, ge=0)
    spam_hold_account_days: int = Field(default=3, ge=0)
    # Bearer token for /metrics; empty: only loopback clients may read it.
    metrics_token: str = ""
    run_jobs_in_process: bool = True
    # A server running jobs in process runs each job's next transaction when
    # no request is in flight, waiting at most this long for such a moment
    # (0: jobs and requests interleave freely). Requests go first; jobs are
    # delayed by at most this much per transaction under sustained load.
    jobs_give_way_ms: int = Field(default=50, ge=0, le=10_000)
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
    # Streaming: an SSE comment (and, from `roost serve`, a WebSocket ping)
    # this often, whatever else is sent, so either end of a dead connection
    # notices within a few seconds; the token is checked again each time.
    streaming_heartbeat_s: float = Field(default=5.0, ge=0.05, le=60)
    # /readyz reports the job queue as failing when a due job has waited longer.
    jobs_ready_max_age_s: int = Field(default=300, ge=1)
    log_format: LogFormat = LogFormat.TEXT
    # Admission control (roost/api/admission.py), per server process: under
    # sustained overload a request that waited longer than max_queue_ms for
    # the event loop is refused 503; so is one beyond max_in_flight requests
    # or max_streams streams. 0 turns a check off.
    max_queue_ms: int = Field(default=10, ge=0, le=10_000)
    max_in_flight: int = Field(default=16, ge=0, le=100_000)
    # Once more than this many requests have been in flight without a break
    # for 100 ms, the overload is sustained and the in-flight limit drops to
    # it until nothing has been refused for 100 ms (roost/api/admission.py).
    # Unset: 1 on SQLite (one loop does all the work), 4 on PostgreSQL
    # (requests also wait on round trips). 0 turns it off.
    sustained_in_flight: int | None = Field(default=None, ge=0, le=100_000)
    # The in-flight limit follows latency (roost/api/concurrency_limit.py): it
    # starts at max_in_flight, falls while admitted requests take more than
    # twice their unloaded time and the event loop is saturated (busy for 90%
    # of the time it could run: a slow dependency or a crowded machine does
    # not lower it), climbs back while they do not or the loop idles, never
    # below min_in_flight (unset: 2 on SQLite and 4 on PostgreSQL). Off (the
    # default): the fixed limits above (sustained_in_flight applies). Off by
    # default because on a crowded machine the Redis-loss drill still saw it
    # refuse requests the fixed limits serve (bench/README.md, "bench.overload").
    adaptive_in_flight: bool = False
    min_in_flight: int | None = Field(default=None, ge=1, le=100_000)
    max_streams: int = Field(default=1000, ge=0, le=1_000_000)
    # Media (roost/media): where files live, what is accepted, how images are
    # cut down. Sizes are in bytes; media_max_image_pixels refuses
    # decompression bombs before any pixel is decoded.
    media_dir: Path | None = None
    media_max_image_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    media_max_video_bytes: int = Field(default=100 * 1024 * 1024, ge=1024)
    media_image_max_dimension: int = Field(default=1920, ge=64, le=16_384)
    media_max_image_pixels: int = Field(default=8192 * 8192, ge=64 * 64)
    # The ffmpeg video and audio go through: "bundled" (the build installed
    # from the lock file, imageio-ffmpeg), a command on the PATH or a path;
    # empty: never run ffmpeg.
    media_ffmpeg: str = "bundled"
    # Known images (roost/domain/known_images): an image whose PDQ hash is
    # within this many bits (of 256) of a listed one is refused; Meta's
    # confident-match distance is 31.
    known_images_max_distance: int = Field(default=31, ge=0, le=96)
    # Where media files live (roost/media/store.py): "local" (media_dir, or
    # data_dir/media) or "s3", an S3-compatible bucket (roost/media/s3.py)
    # that several servers share. Files fetched from the bucket to be served
    # are kept in data_dir/media-cache, up to s3_cache_mb. The secret key is
    # never logged nor shown (SecretStr).
    media_store: Literal["local", "s3"] = "local"
    s3_endpoint: str = ""
    s3_bucket: str = ""
    s3_region: str = "us-east-1"
    s3_access_key: str = ""
    s3_secret_key: SecretStr = SecretStr("")
    s3_cache_mb: int = Field(default=1024, ge=0)
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
    # than either limit; text posts go on until the database's own floor.
    # doctor warns under disk_warn_free_percent.
    media_min_free_mb: int = Field(default=1024, ge=0)
    media_min_free_percent: float = Field(default=2.0, ge=0, le=90)
    disk_warn_free_percent: float = Field(default=10.0, ge=0, le=99)
    # SQLite: writes answer 507 (and /readyz reports the database not
    # writable) when its volume has less free space; the rest is kept for
    # the database to finish what it has begun. 0: only when a write fails.
    db_min_free_mb: int = Field(default=64, ge=0)
    # Twitter imports (roost/importers/twitter): the largest archive upload
    # accepted, and the zip-bomb guards (what all entries may unpack to, and
    # how many times its packed size one entry may unpack to).
    import_max_upload_bytes: int = Field(default=4 << 30, ge=1024)
    import_max_unpacked_bytes: int = Field(default=16 << 30, ge=1024)
    import_max_ratio: int = Field(default=200, ge=2)
    # Mail (roost/mail): smtp://[user:password@]host[:port][?starttls=true]
    # or smtps://... (TLS from the start). Empty: no mail is sent; the log
    # and `roost doctor` say so, and `roost accounts confirm` stands in.
    smtp_url: str = ""
    smtp_from: str = ""
    smtp_timeout_s: float = Field(default=20.0, gt=0, le=300)
    # /readyz and /metrics probe the SMTP server (a connection and EHLO) at
    # most this often; in between they report the last probe's answer.
    smtp_check_interval_s: float = Field(default=60.0, ge=0, le=3600)
    # The web pages (roost/web): whether / shows the newest public posts to
    # visitors (Mastodon's "landing page timeline preview"), and the texts.
    landing_page_posts: bool = False
    # Outbound HTTP (roost/net/http.py) refuses loopback and private
    # addresses unless this is set (tests, labs), or unless they lie in one
    # of the networks listed (comma-separated CIDRs: a lab's own subnet).
    outbound_allow_private: bool = False
    outbound_allowed_networks: str = ""
    outbound_timeout_s: float = Field(default=10.0, gt=0, le=120)
    outbound_max_bytes: int = Field(default=1 << 20, ge=1024)
    # Federation over ActivityPub (roost/federation, docs/federation.md): off,
    # its routes answer 404. Insecure mode (tests, labs) lets peers be plain
    # http:// and on loopback or private addresses, so that several instances
    # can federate on one machine ("127.0.0.1:8001"). Authorized fetch
    # (Mastodon's secure mode) refuses unsigned reads of actors, posts and
    # collections.
    federation: bool = True
    federation_allow_insecure: bool = False
    authorized_fetch: bool = False
    # A server whose deliveries have failed for this many days straight is
    # marked unavailable: its deliveries are dropped (counted, not retried)
    # until it is seen alive again (roost/domain/federation/hosts.py).
    federation_unavailable_after_days: float = Field(default=7.0, gt=0, le=365)
    # How Roost signs what it sends (roost/domain/federation/signing.py):
    # "cavage" (draft-cavage HTTP Signatures, which every server verifies),
    # "rfc9421" (RFC 9421 HTTP Message Signatures only), or "double-knock"
    # (RFC 9421 first, draft-cavage after a refusal, remembered per server).
    federation_signatures: Literal["cavage", "rfc9421", "double-knock"] = "cavage"
    # "allowlist": Mastodon's limited federation mode. Only the servers staff
    # allow (roost domain-allows, /api/v1/admin/domain_allows) are federated
    # with: nothing is taken from, sent to or fetched from any other, and
    # reads of actors and posts must be signed by an allowed server
    # (roost/domain/blocks/domains.py: DomainPolicy.refused).
    federation_mode: Literal["open", "allowlist"] = "open"
    # Other servers' media files cached here (roost/domain/federation/
    # remote_media.py): bytes they may take (0: no budget) and days a file
    # unused is kept (0: whatever its age); past either, the least recently
    # used files are removed (their rows stay) and fetched again when asked
    # for. Checked every federation_upkeep_interval_s, as are unavailable
    # hosts (roost/domain/federation/probes.py).
    remote_media_budget: int = Field(default=0, ge=0)
    remote_media_retention_days: float = Field(default=0.0, ge=0, le=36500)
    federation_upkeep_interval_s: float = Field(default=300.0, ge=1, le=86400)
    # A received or resolved post that replies to one not here has its
    # ancestors fetched from their servers, this many at most (0: none;
    # roost/domain/federation/threads.py).
    federation_thread_depth: int = Field(default=5, ge=0, le=40)
    # How many replies one walk of a post's ``replies`` collection takes at
    # most (listed by its collection, known here or fetched now; 0: the
    # collection is never fetched), when someone here reads the post's
    # context; as deep as the thread depth above
    # (roost/domain/federation/replies.py).
    federation_replies_limit: int = Field(default=40, ge=0, le=1000)
    # The domain as the world sees it (roost/ops/netchecks.py): the addresses
    # ROOST_DOMAIN must resolve to (comma-separated; empty: any), and a
    # nameserver to ask instead of this machine's resolver ("9.9.9.9" or
    # "host:port"), so that /etc/hosts and local caches cannot hide a record
    # that changed. `roost doctor` checks both at once; /metrics at most every
    # ROOST_EXPOSURE_CHECK_INTERVAL_S (also the certificate's expiry).
    public_addresses: str = ""
    dns_resolver: str = ""
    exposure_check_interval_s: float = Field(default=3600.0, ge=0, le=86400)

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

    @field_validator("smtp_url")
    @classmethod
    def _known_smtp(cls, value: str) -> str:
        if value:
            from roost.addresses import parse_smtp_url

            parse_smtp_url(value)
        return value

    @field_validator("outbound_allowed_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        import ipaddress

        for part in filter(None, (p.strip() for p in value.split(","))):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError("comma-separated networks such as 10.1.0.0/16,fd00::/8") from None
        return value

    @field_validator("redis_url")
    @classmethod
    def _known_redis(cls, value: str) -> str:
        if value and not value.startswith(
            ("redis://", "rediss://", "unix://", "redis+sentinel://")
        ):
            raise ValueError("a redis:// URL, or redis+sentinel://host:port[,host:port]/service")
        if value.startswith("redis+sentinel://"):
            from roost.addresses import parse_sentinel_url

            parse_sentinel_url(value)
        return value

    @field_validator("metrics_token")
    @classmethod
    def _metrics_token(cls, value: str) -> str:
        if value and (len(value) < 16 or not re.fullmatch(r"[A-Za-z0-9._~+/=-]+", value)):
            raise ValueError(
                "at least 16 characters of letters, digits and ._~+/=- "
                "(e.g. the output of: openssl rand -hex 32), or empty for loopback-only"
            )
        return value

    @field_validator("s3_endpoint")
    @classmethod
    def _s3_endpoint(cls, value: str) -> str:
        if value and not re.fullmatch(r"https?://[^/?#\s]+/?", value):
            raise ValueError(
                "an http:// or https:// address with no path, e.g. https://s3.example.net"
            )
        return value.rstrip("/")

    @field_validator("s3_bucket")
    @classmethod
    def _s3_bucket(cls, value: str) -> str:
        if value and not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", value):
            raise ValueError("3 to 63 lower-case letters, digits, dots and hyphens")
        return value

    @field_validator("public_addresses")
    @classmethod
    def _addresses(cls, value: str) -> str:
        import ipaddress

        for part in filter(None, (p.strip() for p in value.split(","))):
            try:
                ipaddress.ip_address(part)
            except ValueError:
                raise ValueError("addresses such as 203.0.113.5,2001:db8::5") from None
        return value

    @field_validator("dns_resolver")
    @classmethod
    def _resolver(cls, value: str) -> str:
        import ipaddress

        if value:
            host, sep, port = value.rpartition(":")
            if not (sep and port.isdigit() and ":" not in host):
                host = value
            try:
                ipaddress.ip_address(host.strip("[]"))
            except ValueError:
                raise ValueError("a nameserver such as 9.9.9.9 or 127.0.0.1:5353") from None
        return value

    @field_validator("redis_prefix")
    @classmethod
    def _plain_prefix(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9:_.-]+", value):
            raise ValueError("letters, digits and : _ - . only (it starts every Redis key)")
        return value

    @property
    def outbound_networks(self) -> tuple[Any, ...]:
        """``outbound_allowed_networks`` parsed (ipaddress networks)."""
        import ipaddress

        parts = (p.strip() for p in self.outbound_allowed_networks.split(","))
        return tuple(ipaddress.ip_network(p, strict=False) for p in parts if p)

    @property
    def public_address_set(self) -> frozenset[str]:
        """``public_addresses`` parsed, each in its canonical form."""
        import ipaddress

        parts = (p.strip() for p in self.public_addresses.split(","))
        return frozenset(str(ipaddress.ip_address(p)) for p in parts if p)

    @property
    def dns_resolver_address(self) -> tuple[str, int] | None:
        """``dns_resolver`` as (address, port), or None for this machine's resolver."""
        if not self.dns_resolver:
            return None
        host, sep, port = self.dns_resolver.rpartition(":")
        if sep and port.isdigit() and ":" not in host:
            return host.strip("[]"), int(port)
        return self.dns_resolver.strip("[]"), 53

    @property
    def rate_limit_exempt_client_ids(self) -> frozenset[str]:
        return frozenset(x.strip() for x in self.rate_limit_exempt_apps.split(",") if x.strip())

    @property
    def base_url(self) -> str:
        """Where clients and browsers reach this server."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = self.domain.split(":")[0]
        scheme = "http" if host in {"localhost", "127.0.0.1", "::1"} else "https"
        return f"{scheme}://{self.domain}"

    @property
    def allowlist_federation(self) -> bool:
        return self.federation_mode == "allowlist"

    @property
    def signed_reads_required(self) -> bool:
        """Reads of actors, posts and collections must be signed: authorized
        fetch, which the allow-list mode implies (as Mastodon's does)."""
        return self.authorized_fetch or self.allowlist_federation

    @property
    def mail_from(self) -> str:
        if self.smtp_from:
            return self.smtp_from
        return f"{self.instance_title} <notifications@{self.domain.split(':')[0]}>"

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

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
    def database_file(self) -> Path | None:
        """The SQLite database's file; None on PostgreSQL or in memory."""
        url = self.sqlalchemy_url
        if not self.is_sqlite or ":memory:" in url or ":///" not in url:
            return None
        return Path(url.split(":///", 1)[1])

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


# Settings whose values are secrets or may carry a password: an error names
# them but never repeats them.
_SECRET_SETTINGS = frozenset(
    {"ROOST_SECRET_KEY", "ROOST_METRICS_TOKEN", "ROOST_SMTP_URL", "ROOST_S3_SECRET_KEY"}
)


def _describe(error: ValidationError) -> str:
    lines = []
    for problem in error.errors():
        key = "ROOST_" + "_".join(str(part) for part in problem["loc"]).upper()
        got = "" if key in _SECRET_SETTINGS else f" (got {problem.get('input')!r})"
        lines.append(f"{key}: {problem['msg']}{got}")
    return "; ".join(lines)


def load_settings(**overrides: Any) -> Settings:
    """Read the environment (plus explicit overrides) and fill in the secret key.

    Raises SettingsError naming each bad variable.
    """
    try:
        settings = Settings(**overrides)
    except ValidationError as error:
        raise SettingsError(_describe(error)) from None
    if settings.media_store == "s3":
        missing = [
            f"ROOST_{name.upper()}"
            for name in ("s3_endpoint", "s3_bucket", "s3_access_key")
            if not getattr(settings, name)
        ]
        if not settings.s3_secret_key.get_secret_value():
            missing.append("ROOST_S3_SECRET_KEY")
        if missing:
            raise SettingsError(f"ROOST_MEDIA_STORE=s3 needs {', '.join(missing)}")
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
