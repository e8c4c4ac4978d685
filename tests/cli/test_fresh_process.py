"""Every `roost` command as an operator first meets it: the installed program, in
a new process, on an installation nothing has touched yet.

In-process CLI tests share one interpreter, where an earlier command may have
set up what a later one silently relies on (the key store, the key that signs
media URLs); an operator's `roost backup create` is the first and only thing
its process does. So here every command and subcommand runs as
``<environment>/bin/roost ...`` in its own process, with its settings spelled
out, and each test has its own data directory (and, on PostgreSQL + Redis, its
own empty database and key prefix). The last test holds the list honest: it
fails when a command of ``roost --help`` is run by no test here.
"""

from __future__ import annotations

import ast
import asyncio
import json
import secrets
import signal
import socket
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer

from roost.cli.main import app
from tests.cli.installation import Installation, concurrently
from tests.conftest import REDIS_URL, REQUIRE_BACKENDS
from tests.drills.support import free_port, wait_for
from tests.importers.builder import ArchiveBuilder, png

PASSWORD = "correct horse battery"


async def _admin(url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
def installation(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Installation]:
    """A new installation: no data directory yet; on PostgreSQL a database of
    its own, made empty for this test (no schema) and dropped after it."""
    settings: dict[str, str] = {}
    server = ""
    name = f"roost_fresh_{secrets.token_hex(4)}"
    if backend == "postgres":
        server = request.getfixturevalue("postgres_url")
        asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
        settings["database_url"] = f"{server.rpartition('/')[0]}/{name}"
        if REDIS_URL or REQUIRE_BACKENDS:
            settings["redis_url"] = request.getfixturevalue("redis_url")
            settings["redis_prefix"] = request.getfixturevalue("redis_prefix")
    installed = Installation(tmp_path, settings)
    try:
        yield installed
    finally:
        installed.stop_all()
        if server:
            asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _twitter_archive(path: Path) -> Path:
    """A small archive: two tweets, one with a picture."""
    builder = ArchiveBuilder()
    builder.tweet("Herons at dawn")
    pictured = builder.tweet(
        "An ibis https://t.co/pics000001", media=[("https://t.co/pics000001", "IBIS1")]
    )
    builder.add_media_file(pictured, "IBIS1", png())
    return builder.write_zip(path)


def _emoji_file(path: Path) -> Path:
    path.write_bytes(png(size=(32, 32)))
    return path


# About fifty fresh `roost` processes, each importing Roost: minutes on a
# shared two-core machine.
@pytest.mark.timeout(900)
def test_given_a_fresh_installation_when_the_operator_sets_it_up_then_every_step_answers(
    installation: Installation,
) -> None:
    roost = installation.roost
    before = roost("db", "status")
    assert "(empty database)" in before.out and "pending:" in before.out
    assert "schema at revision" in roost("db", "upgrade").out
    assert "up to date" in roost("db", "status").out
    created = roost(
        "accounts",
        "create",
        "alice",
        "--email",
        "alice@example.org",
        "--password",
        PASSWORD,
        "--admin",
    )
    assert created.out.startswith("created @alice (id ")

    # Independent of one another, so run side by side.
    def accounts_and_tokens() -> None:
        roost(
            "accounts",
            "create",
            "bob",
            "--email",
            "b@example.org",
            "--password",
            PASSWORD,
            "--locked",
        )
        token = roost("tokens", "create", "alice", "--scopes", "read write").out.strip()
        assert len(token.splitlines()) == 1 and len(token) >= 40
        assert "revoked 1 token(s) of @alice" in roost("tokens", "revoke-all", "alice").out
        suspended = roost("accounts", "suspend", "bob", "--reason", "spam")
        assert suspended.out.startswith("suspended @bob")
        assert roost("accounts", "unsuspend", "bob").out.strip() == "unsuspended @bob"

    def search_and_jobs() -> None:
        assert "indexed 0 posts" in roost("search", "reindex").out
        assert "no jobs waiting" in roost("jobs", "list", "--parked").out
        assert roost("jobs", "retry", "--all-parked").out.strip() == "requeued 0 job(s)"

    def announcements() -> None:
        published = roost(
            "announcements", "add", "Maintenance tonight", "--starts-at", "2030-01-01"
        )
        assert published.out.startswith("published announcement ")
        announcement = published.out.strip().rsplit(" ", 1)[-1]
        assert "Maintenance tonight" in roost("announcements", "list").out
        removed = roost("announcements", "remove", announcement)
        assert removed.out.strip() == f"removed announcement {announcement}"
        assert roost("announcements", "list").out.strip() == "no announcements"

    def emoji() -> None:
        image = _emoji_file(installation.home / "blobcat.png")
        added = roost("emoji", "add", "blobcat", str(image), "--category", "cats")
        assert added.out.strip() == "added :blobcat:"
        assert "blobcat" in roost("emoji", "list").out
        assert "blobcat" in roost("emoji", "remove", "blobcat").out

    def rules_and_invites() -> None:
        added = roost("rules", "add", "Be kind", "--hint", "No harassment")
        assert added.out.startswith("added rule ") and added.out.strip().endswith(": Be kind")
        rule = added.out.split()[2].rstrip(":")
        assert f"1. [{rule}] Be kind (No harassment)" in roost("rules", "list").out
        assert roost("rules", "remove", rule).out.strip() == f"removed rule {rule}"
        assert roost("rules", "list").out.startswith("no rules yet")
        link = roost("invites", "create", "--max-uses", "2", "--expires-in", "7d").out.strip()
        assert "/invite/" in link and len(link.splitlines()) == 1
        code = link.rsplit("/", 1)[-1]
        assert "uses 0/2" in roost("invites", "list").out
        assert roost("invites", "revoke", code).out.strip() == f"revoked invite {code}"

    def warning_presets() -> None:
        listed = roost("warning-presets", "list").out.strip()
        assert listed.startswith("no warning presets")
        made = roost("warning-presets", "create", "Please keep it civil.", "--title", "Civil")
        assert made.out.startswith("added warning preset ") and made.out.strip().endswith(": Civil")
        preset = made.out.split()[3].rstrip(":")
        listed = roost("warning-presets", "list").out.strip()
        assert listed == f"{preset}\tCivil\tPlease keep it civil."
        removed = roost("warning-presets", "remove", preset).out.strip()
        assert removed == f"removed warning preset {preset}"
        assert roost("warning-presets", "list").out.startswith("no warning presets")

    def email_domains() -> None:
        assert roost("email-domains", "list").out.strip() == "no e-mail domains are blocked"
        assert (
            roost("email-domains", "block", "@Spam.Example.").out.strip() == "blocked spam.example"
        )
        again = roost("email-domains", "block", "spam.example").out.strip()
        assert again == "spam.example was already blocked"
        assert roost("email-domains", "list").out.startswith("spam.example\tsince ")
        assert roost("email-domains", "unblock", "spam.example").out.strip() == (
            "unblocked spam.example"
        )

    def instance_blocks() -> None:
        assert roost("ip-blocks", "list").out.strip() == "no IP blocks"
        made = roost("ip-blocks", "add", "192.0.2.9/24", "--severity", "no_access").out
        assert made.startswith("blocked 192.0.2.0/24 (no_access), id ")
        block_id = made.split()[-1]
        assert f"{block_id}\t192.0.2.0/24\tno_access\tuntil never" in roost("ip-blocks", "list").out
        assert roost("ip-blocks", "remove", block_id).out.strip() == "unblocked 192.0.2.0/24"
        assert roost("domain-blocks", "list").out.strip() == "no domain blocks"
        made = roost(
            "domain-blocks", "add", "Spam.Example", "--severity", "suspend", "--reject-media"
        ).out
        assert made.startswith("blocked spam.example (suspend), id ")
        block_id = made.split()[-1]
        listed = roost("domain-blocks", "list").out.strip()
        assert listed == f"{block_id}\tspam.example\tsuspend\treject_media"
        assert roost("domain-blocks", "remove", block_id).out.strip() == "unblocked spam.example"
        assert roost("domain-allows", "list").out.strip() == (
            "federation mode: open\nno allowed servers"
        )
        made = roost("domain-allows", "add", "Friends.Example").out
        assert made.startswith("allowed friends.example, id ")
        allow_id = made.split()[-1]
        listed = roost("domain-allows", "list", federation_mode="allowlist").out.strip()
        assert listed == f"federation mode: allowlist\n{allow_id}\tfriends.example"
        removed = roost("domain-allows", "remove", allow_id).out.strip()
        assert removed == "no longer allowed: friends.example"

    concurrently(
        accounts_and_tokens,
        search_and_jobs,
        announcements,
        emoji,
        rules_and_invites,
        warning_presets,
        email_domains,
        instance_blocks,
    )


def test_given_a_fresh_installation_when_staff_roles_are_managed_then_the_audit_log_holds(
    installation: Installation,
) -> None:
    roost = installation.roost
    for name, extra in (("alice", ("--admin",)), ("bob", ()), ("carol", ())):
        roost(
            "accounts",
            "create",
            name,
            "--email",
            f"{name}@example.org",
            "--password",
            PASSWORD,
            *extra,
        )
    listed = roost("roles", "list").out
    assert "Owner [3]" in listed and "held by: @alice" in listed and "Moderator [1]" in listed
    created = roost("roles", "create", "Triage", "--permissions", "manage_reports,view_audit_log")
    assert created.out.startswith("created role Triage [")
    assert created.out.strip().endswith(": view_audit_log, manage_reports")
    assert roost("roles", "grant", "bob", "Triage").out.strip() == "@bob now holds the role Triage"
    # Bob's role does not grant manage_users: refused, and nothing happens.
    refused = installation.fails(
        "accounts", "suspend", "carol", "--as", "bob", says="does not grant manage_users"
    )
    assert "roost accounts suspend" in refused.err
    assert roost("accounts", "suspend", "carol", "--as", "alice").out.startswith("suspended")
    assert "Triage" in roost("audit", "list", "--as", "bob", "--limit", "3").out
    assert roost("roles", "revoke", "bob").out.strip() == "@bob no longer holds the role Triage"
    installation.fails("audit", "list", "--as", "bob", says="does not grant view_audit_log")
    lines = roost("audit", "list", "--json").out.splitlines()
    actions = [json.loads(line)["action"] for line in lines]
    assert actions == ["role.revoke", "account.suspend", "role.grant", "role.create", "role.grant"]
    verified = roost("audit", "verify")
    assert verified.out.startswith("audit log intact: 5 entries, head ")


def test_given_a_fresh_installation_when_staff_feature_an_account_then_it_is_suggested(
    installation: Installation,
) -> None:
    """`roost suggestions feature|list|unfeature`, each its own process."""
    roost = installation.roost
    roost("accounts", "create", "heron", "--email", "heron@example.org", "--password", PASSWORD)
    assert roost("suggestions", "list").out.startswith("no account is suggested to everyone")
    assert roost("suggestions", "feature", "heron").out.strip() == (
        "heron is suggested to everyone"
    )
    assert roost("suggestions", "feature", "heron").out.strip().endswith("(already was)")
    assert roost("suggestions", "list").out.strip() == "heron"
    assert roost("suggestions", "unfeature", "heron").out.strip() == "heron is no longer suggested"
    assert roost("suggestions", "unfeature", "heron").out.strip().endswith("(was not)")
    assert roost("suggestions", "list").out.startswith("no account is suggested to everyone")


def test_given_a_fresh_installation_when_a_lawful_request_is_handled_then_two_others_approve(
    installation: Installation, tmp_path: Path
) -> None:
    roost = installation.roost
    for name in ("ann", "ben", "cat", "dan", "target"):
        roost("accounts", "create", name, "--email", f"{name}@example.org", "--password", PASSWORD)
    roost("roles", "create", "Lawful", "--permissions", "manage_users")
    roost("roles", "create", "Triage", "--permissions", "manage_reports")
    for name in ("ann", "ben", "cat"):
        roost("roles", "grant", name, "Lawful")
    roost("roles", "grant", "dan", "Triage")
    assert roost("lawful", "list").out.strip() == "no lawful requests"
    entered = roost(
        "lawful",
        "create",
        "target",
        "--authority",
        "Example City Police",
        "--legal-basis",
        "Production order 2026/123",
        "--verification",
        "Called the published switchboard back",
        "--verified-by",
        "ann",
        "--from",
        "2026-01-01",
        "--until",
        "2026-12-31",
        "--kinds",
        "profile,posts",
        "--as",
        "ann",
    ).out
    request_id = entered.split()[2]
    installation.fails("lawful", "approve", request_id, "--as", "ann", says="cannot approve")
    installation.fails("lawful", "approve", request_id, says="--as NAME")
    installation.fails("lawful", "approve", request_id, "--as", "dan", says="manage_users")
    assert roost("lawful", "approve", request_id, "--as", "ben").out.strip().endswith("pending")
    installation.fails("lawful", "approve", request_id, "--as", "ben", says="already approved")
    out = tmp_path / "handed-over"
    installation.fails(
        "lawful", "package", request_id, "--to", str(out), "--as", "ben", says="pending"
    )
    assert not out.exists()
    assert roost("lawful", "approve", request_id, "--as", "cat").out.strip().endswith("approved")
    packaged = roost("lawful", "package", request_id, "--to", str(out), "--as", "ben").out
    assert " disclosed: " in packaged
    (package,) = out.glob("*.zip")
    with zipfile.ZipFile(package) as archive:
        assert set(archive.namelist()) == {"actor.json", "outbox.json", "request.json"}
    shown = roost("lawful", "show", request_id, "--as", "cat").out
    assert "disclosed by account" in shown and packaged.strip().split()[-1] in shown
    assert " disclosed " in roost("lawful", "list", "--as", "ann").out
    second = roost(
        "lawful",
        "create",
        "target",
        "--authority",
        "Unknown sender",
        "--legal-basis",
        "None given",
        "--verification",
        "The number on the letter does not answer",
        "--verified-by",
        "ben",
        "--from",
        "2026-01-01",
        "--until",
        "2026-02-01",
        "--kinds",
        "direct_messages",
        "--as",
        "ben",
    ).out.split()[2]
    refused = roost("lawful", "refuse", second, "--reason", "Forged request", "--as", "cat").out
    assert refused.strip() == f"lawful request {second} refused"
    assert "refused by account" in roost("lawful", "show", second).out
    assert roost("audit", "verify").out.startswith("audit log intact: ")


def test_given_a_fresh_installation_when_backed_up_verified_and_restored_then_each_works(
    installation: Installation,
) -> None:
    """The outside check's reproduction: `roost backup create` as the first thing
    a process does (the key store was never opened there), and `backup verify`
    rendering followers-only posts with media (their URLs are signed)."""
    roost, home = installation.roost, installation.home
    roost("accounts", "create", "alice", "--email", "a@example.org", "--password", PASSWORD)
    archive = _twitter_archive(home / "twitter.zip")
    imported = roost(
        "import", "twitter", str(archive), "--account", "alice", "--visibility", "private"
    )
    assert "done in" in imported.out and "media" in imported.out

    first = roost("backup", "create")
    made = Path(first.out.splitlines()[0].removeprefix("backup written: "))
    assert made.parent == installation.data_dir / "backups" and made.is_file()
    elsewhere = home / "offsite"
    second = roost("backup", "create", "--to", str(elsewhere))
    assert f"backup written: {elsewhere}" in second.out
    assert (elsewhere / "roost-keys.sqlite3").is_file()

    key = home / "backup.key"
    assert "key written to" in roost("backup", "keygen", str(key)).out
    encrypted = roost(
        "backup", "create", "--to", str(home / "sealed"), "--encrypt-key-file", str(key)
    )
    sealed = Path(encrypted.out.splitlines()[0].removeprefix("backup written: "))
    assert sealed.name.endswith(".tar.enc")

    verified, verified_sealed = concurrently(
        lambda: roost("backup", "verify", str(made)),
        lambda: roost("backup", "verify", str(sealed), "--key-file", str(key)),
    )
    assert "posts render: the newest 2 posts" in verified.out
    assert f"verified {sealed.name}" in verified_sealed.out
    doctor = json.loads(roost("doctor", "--json").out)
    assert doctor["ok"] is True, doctor
    assert "all checks pass" in roost("doctor").out
    assert "kept 1, would delete 0" in roost("backup", "prune", "--dry-run").out

    restored = roost("backup", "restore", str(made), "--force")
    assert f"restored {made.name}" in restored.out
    assert "key(s) merged from" in restored.out
    exported = roost("export", "account", "alice", "--to", str(home / "alice.zip"))
    assert "2 posts, 1 media files" in exported.out
    erased = roost("accounts", "erase", "alice", "--yes")
    assert erased.out.startswith("erased @alice") and "0 hits" in erased.out


def test_given_mistakes_when_any_command_meets_them_then_one_line_and_exit_1(
    installation: Installation,
) -> None:
    home = installation.home
    installation.roost("db", "upgrade")
    installation.roost(
        "accounts", "create", "alice", "--email", "a@example.org", "--password", PASSWORD
    )
    not_an_image = home / "notes.txt"
    not_an_image.write_text("not a picture")
    fails = installation.fails
    concurrently(
        lambda: fails("accounts", "create", "bob", "--email", "b@example.org", says="--password"),
        lambda: fails(
            "accounts",
            "create",
            "alice",
            "--email",
            "c@example.org",
            "--password",
            PASSWORD,
            says="already taken",
        ),
        lambda: fails("accounts", "approve", "nobody", says="no account named nobody"),
        lambda: fails("accounts", "suspend", "nobody", says="no account named nobody"),
        lambda: fails("accounts", "unsuspend", "alice", says="@alice is not suspended"),
        lambda: fails("accounts", "erase", "alice", says="pass --yes"),
        lambda: fails("accounts", "erase", "nobody", "--yes", says="no account named nobody"),
        lambda: fails("tokens", "create", "alice", "--scopes", "read sudo", says="sudo"),
        lambda: fails("tokens", "revoke-all", "nobody", says="no account named nobody"),
        lambda: fails("jobs", "retry", says="name a job id, or pass --all-parked"),
        lambda: fails("jobs", "discard", "42", says="no parked job with id 42"),
        lambda: fails("announcements", "add", "Soon", "--ends-at", "Tuesday", says="--ends-at"),
        lambda: fails("emoji", "add", "notes", str(not_an_image), says="PNG, GIF or WebP"),
        lambda: fails("emoji", "remove", "nothing", says="nothing"),
        lambda: fails("export", "account", "nobody", "--to", str(home / "x.zip"), says="nobody"),
        lambda: fails(
            "import",
            "twitter",
            str(home / "missing.zip"),
            "--account",
            "alice",
            says="missing.zip",
        ),
        lambda: fails("backup", "verify", str(not_an_image), says="not a Roost backup"),
        lambda: fails("backup", "restore", str(home / "missing.tar"), says="missing.tar"),
        lambda: fails("backup", "keygen", str(home / "no" / "such" / "key"), says="cannot write"),
        lambda: fails(
            "backup",
            "create",
            "--encrypt-key-file",
            str(home / "missing.key"),
            says="missing.key",
        ),
        lambda: fails("db", "status", says="ROOST_REGISTRATIONS", registrations="sometimes"),
        lambda: fails("email-domains", "block", "not a domain", says="not a domain name"),
        lambda: fails("email-domains", "unblock", "nobody.example", says="is not blocked"),
        lambda: fails("ip-blocks", "add", "nowhere", "--severity", "no_access", says="not an IP"),
        lambda: fails(
            "ip-blocks", "add", "192.0.2.1", "--severity", "maybe", says="must be one of"
        ),
        lambda: fails("ip-blocks", "remove", "42", says="Record not found"),
        lambda: fails("domain-blocks", "add", "x.example", "--severity", "ban", says="one of"),
        lambda: fails("domain-blocks", "remove", "42", says="Record not found"),
        lambda: fails(
            "ip-blocks", "remove", "42", "--as", "nobody", says="no account named nobody"
        ),
    )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        fails("serve", "--port", port, says=f"cannot listen on 127.0.0.1:{port}")


def _sign_up(base: str, username: str) -> str:
    """Sign up through the API as an app does; the account's access token."""
    registered = httpx.post(
        f"{base}/api/v1/apps",
        data={
            "client_name": "fresh",
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": "read write",
        },
    ).json()
    app_token = httpx.post(
        f"{base}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": registered["client_id"],
            "client_secret": registered["client_secret"],
            "scope": "read write",
        },
    ).json()["access_token"]
    signed_up = httpx.post(
        f"{base}/api/v1/accounts",
        headers={"Authorization": f"Bearer {app_token}"},
        data={
            "username": username,
            "email": f"{username}@example.org",
            "password": PASSWORD,
            "agreement": "true",
            "locale": "en",
        },
    )
    assert signed_up.status_code == 200, signed_up.text
    token: str = signed_up.json()["access_token"]
    return token


def test_given_a_fresh_installation_when_served_then_it_answers_and_stops_on_sigterm(
    installation: Installation,
) -> None:
    """`roost serve` comes up on a data directory that does not exist yet; a
    sign-up waits for `roost accounts approve` and `roost accounts confirm`
    (run beside the server); SIGTERM stops it cleanly."""
    base = installation.serve()
    # A blocked e-mail domain, blocked beside the running server, refuses
    # sign-ups at once (its subdomains too).
    installation.roost("email-domains", "block", "example.org")
    with pytest.raises(AssertionError, match="ERR_BLOCKED"):
        _sign_up(base, "mallory")
    installation.roost("email-domains", "unblock", "example.org")
    carol = _sign_up(base, "carol")
    me = {"Authorization": f"Bearer {carol}"}
    assert httpx.get(f"{base}/api/v1/accounts/verify_credentials", headers=me).status_code == 403
    assert installation.roost("accounts", "approve", "carol").out.strip() == "approved @carol"
    # Approved, but the address was never confirmed (no mail is set up here).
    assert httpx.get(f"{base}/api/v1/accounts/verify_credentials", headers=me).status_code == 403
    confirmed = installation.roost("accounts", "confirm", "carol").out
    assert "carol" in confirmed
    assert httpx.get(f"{base}/api/v1/accounts/verify_credentials", headers=me).status_code == 200

    server = installation.processes[-1]
    server.send_signal(signal.SIGTERM)
    # uvicorn finishes the requests in flight, then ends by the signal it got,
    # as a supervisor expects of a process it stopped.
    assert server.wait(timeout=30) in (0, -signal.SIGTERM)
    log = installation.log("serve.log")
    assert "Application shutdown complete" in log and "Traceback" not in log


def test_given_a_server_that_leaves_jobs_to_workers_when_a_worker_runs_then_they_are_done(
    installation: Installation,
) -> None:
    """`roost worker` as its own process: it runs the jobs a post left, serves
    their durations on --metrics-port, and SIGTERM stops it cleanly."""
    base = installation.serve(run_jobs_in_process="false")
    installation.roost(
        "accounts", "create", "alice", "--email", "a@example.org", "--password", PASSWORD
    )
    token = installation.roost("tokens", "create", "alice").out.strip()
    posted = httpx.post(
        f"{base}/api/v1/statuses",
        headers={"Authorization": f"Bearer {token}"},
        data={"status": "Fresh from the oven"},
    )
    assert posted.status_code == 200, posted.text
    assert "status.published" in installation.roost("jobs", "list").out

    metrics_port = free_port()
    worker = installation.start(
        "worker", "--concurrency", "1", "--metrics-port", str(metrics_port), log="worker.log"
    )
    wait_for(
        lambda: "no jobs waiting" in installation.roost("jobs", "list").out,
        60,
        "the worker to run the queued jobs",
    )
    scraped = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
    assert 'roost_job_duration_seconds_count{kind="status.published"} 1.0' in scraped
    assert 'roost_job_duration_seconds_bucket{kind="status.published",le="3600.0"} 1.0' in scraped
    assert "roost_start_time_seconds " in scraped
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=30) == 0, installation.log("worker.log")
    log = installation.log("worker.log")
    assert "running jobs with 1 runner(s)" in log and "roost worker: stopped" in log
    assert "Traceback" not in log


def test_given_a_trending_hashtag_when_staff_review_it_with_roost_trends_then_it_shows_or_not(
    installation: Installation,
) -> None:
    """`roost trends list|approve|reject` beside a served installation: two
    accounts use a hashtag over the API; it awaits review, shows in
    /api/v1/trends/tags once approved, and is gone once rejected."""
    roost = installation.roost
    assert roost("trends", "list").out.strip() == "nothing awaits review"
    base = installation.serve()
    for name in ("alice", "bob"):
        roost("accounts", "create", name, "--email", f"{name}@example.org", "--password", PASSWORD)
        token = roost("tokens", "create", name).out.strip()
        posted = httpx.post(
            f"{base}/api/v1/statuses",
            headers={"Authorization": f"Bearer {token}"},
            data={"status": "At the lake #Herons"},
        )
        assert posted.status_code == 200, posted.text
    listed = roost("trends", "list", "--kind", "tags").out.strip()
    assert listed.startswith("tags ") and listed.endswith("#Herons [awaiting review]"), listed
    assert "(2 accounts)" in listed
    tag_id = listed.split()[1]
    assert httpx.get(f"{base}/api/v1/trends/tags").json() == []
    assert roost("trends", "approve", "tags", tag_id).out.strip() == f"approved tags {tag_id}"
    assert [t["name"] for t in httpx.get(f"{base}/api/v1/trends/tags").json()] == ["Herons"]
    assert roost("trends", "list").out.strip() == "nothing awaits review"
    assert roost("trends", "reject", "tags", tag_id).out.strip() == f"rejected tags {tag_id}"
    assert "#Herons [rejected]" in roost("trends", "list", "--all").out
    assert httpx.get(f"{base}/api/v1/trends/tags").json() == []
    installation.fails("trends", "approve", "tags", "4242424242", says="no hashtag with id")
    installation.fails("trends", "list", "--kind", "people", says="not a kind of trend")


def _seed_federation(installation: Installation) -> None:
    """What workers would have left: three other servers' delivery state and
    the delivery jobs waiting for them (written as the workers write them)."""
    from datetime import timedelta

    from sqlalchemy.ext.asyncio import create_async_engine

    from roost.clock import utcnow
    from roost.config import Settings
    from roost.db.tables import federation_hosts, jobs

    settings = Settings(
        data_dir=installation.data_dir,
        database_url=installation.settings.get("database_url", ""),
    )
    now = utcnow()

    def job(n: int, inbox: str, state: str = "queued") -> dict[str, Any]:
        payload = {"inbox_url": inbox, "account_id": 1, "activity": ""}
        return {
            "id": 9000 + n, "kind": "federation.deliver", "payload": payload, "state": state,
            "attempts": 0, "max_attempts": 8, "run_at": now, "created_at": now,
        }  # fmt: skip

    async def seed() -> None:
        engine = create_async_engine(settings.sqlalchemy_url)
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    federation_hosts.insert(),
                    [
                        {
                            "host": "down.example", "failures": 50, "dropped": 4,
                            "first_failure_at": now - timedelta(days=9),
                            "next_attempt_at": now - timedelta(days=1),
                            "last_success_at": now - timedelta(days=10),
                            "unavailable_at": now - timedelta(days=2),
                            "signature_scheme": None, "signature_scheme_at": None,
                        },
                        {
                            "host": "slow.example", "failures": 3, "dropped": 0,
                            "first_failure_at": now - timedelta(minutes=5),
                            "next_attempt_at": now + timedelta(minutes=30),
                            "last_success_at": now - timedelta(hours=1),
                            "unavailable_at": None,
                            "signature_scheme": "rfc9421", "signature_scheme_at": now,
                        },
                    ],
                )  # fmt: skip
                await conn.execute(
                    jobs.insert(),
                    [
                        job(1, "https://slow.example/inbox"),
                        job(2, "https://slow.example/users/bob/inbox"),
                        job(3, "https://slow.example/inbox", state="parked"),
                        job(4, "https://new.example/inbox"),
                    ],
                )
        finally:
            await engine.dispose()

    asyncio.run(seed())


def test_given_servers_in_each_state_when_the_operator_asks_then_roost_federation_status_shows(
    installation: Installation,
) -> None:
    """`roost federation status` (and `--host`, `--json`): on a fresh
    installation no other server is known; with a backing-off server, an
    unavailable one and one only queued for, each shows its state, its
    queued deliveries, failures, last success and the signature it took."""
    roost = installation.roost
    assert roost("federation", "status").out.strip() == "no other server is known yet"
    assert json.loads(roost("federation", "status", "--json").out) == []
    _seed_federation(installation)

    shown = roost("federation", "status").out
    lines = {line.split()[1]: line for line in shown.splitlines() if ".example" in line}
    assert set(lines) == {"down.example", "new.example", "slow.example"}, shown
    assert "unavailable" in lines["down.example"]
    assert "backing off" in lines["slow.example"] and "rfc9421" in lines["slow.example"]
    assert " ok " in lines["new.example"] and "never" in lines["new.example"]

    listed = {h["host"]: h for h in json.loads(roost("federation", "status", "--json").out)}
    assert [listed[h]["state"] for h in sorted(listed)] == ["unavailable", "ok", "backing off"]
    slow = listed["slow.example"]
    assert slow["queued"] == 2 and slow["failures"] == 3  # the parked job is not waiting
    assert slow["next_attempt_at"] is not None and slow["last_success_at"] is not None
    assert slow["signature"] == "rfc9421"  # what the double-knock learnt
    down = listed["down.example"]
    assert down["queued"] == 0 and down["dropped"] == 4
    assert down["unavailable_since"] is not None and down["next_attempt_at"] is None
    assert listed["new.example"]["queued"] == 1 and listed["new.example"]["failures"] == 0

    one = json.loads(roost("federation", "status", "--host", "SLOW.example", "--json").out)
    assert [h["host"] for h in one] == ["slow.example"]
    assert "backing off" in roost("federation", "status", "--host", "slow.example").out
    installation.fails("federation", "status", "--host", "nowhere.example", says="no host")


def _seed_media(installation: Installation) -> None:
    """Two attachments of alice's: one fetched from another server (its file
    cached, 5000 bytes), one uploaded here (never counted nor pruned)."""
    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import create_async_engine

    from roost.clock import utcnow
    from roost.config import Settings
    from roost.db.tables import accounts, media_attachments

    settings = Settings(
        data_dir=installation.data_dir,
        database_url=installation.settings.get("database_url", ""),
    )
    now = utcnow()

    def media(n: int, remote: str | None) -> dict[str, Any]:
        return {
            "id": 7000 + n, "account_id": 0, "position": 0, "type": "image",
            "state": "ready", "content_type": "image/png", "file_key": f"k{n}.png",
            "file_size": 5000, "meta": {}, "created_at": now, "remote_url": remote,
        }  # fmt: skip

    async def seed() -> None:
        engine = create_async_engine(settings.sqlalchemy_url)
        try:
            async with engine.begin() as conn:
                owner = (
                    await conn.execute(select(accounts.c.id).where(accounts.c.username == "alice"))
                ).scalar_one()
                rows = [media(1, "https://far.example/1.png"), media(2, None)]
                await conn.execute(
                    media_attachments.insert(), [{**r, "account_id": owner} for r in rows]
                )
        finally:
            await engine.dispose()

    asyncio.run(seed())


def test_given_remote_media_cached_when_the_operator_asks_then_roost_media_remote_shows_and_prunes(
    installation: Installation,
) -> None:
    """`roost media remote usage` and `prune`: nothing on a fresh
    installation; a cached remote file counts, a local one does not, and
    a prune past the budget (ROOST_REMOTE_MEDIA_BUDGET) removes the remote
    file only, its row staying, counted as pruned."""
    roost = installation.roost
    assert roost("media", "remote", "usage").out.strip() == (
        "remote media: 0 files, 0 bytes (0.0 MiB); budget none; 0 pruned"
    )
    assert roost("media", "remote", "prune").out.strip() == "pruned 0 remote files, 0 bytes"
    roost("accounts", "create", "alice", "--email", "alice@example.org", "--password", PASSWORD)
    _seed_media(installation)
    shown = json.loads(roost("media", "remote", "usage", "--json").out)
    assert shown == {"files": 1, "bytes": 5000, "budget": 0, "pruned": 0}
    # Without a budget nor a retention, nothing goes.
    assert roost("media", "remote", "prune").out.strip() == "pruned 0 remote files, 0 bytes"
    pruned = roost("media", "remote", "prune", remote_media_budget="1000").out.strip()
    assert pruned == "pruned 1 remote files, 5000 bytes"
    after = roost("media", "remote", "usage", remote_media_budget="1000").out.strip()
    assert after == "remote media: 0 files, 0 bytes (0.0 MiB); budget 1000 bytes; 1 pruned"


def _head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    import roost.db.migrations as migrations

    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def _revision_before(revision: str) -> str:
    """The revision ``revision`` follows (its ``down_revision``: numbers may skip)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    import roost.db.migrations as migrations

    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    script = ScriptDirectory.from_config(config).get_revision(revision)
    assert script is not None and isinstance(script.down_revision, str)
    return script.down_revision


def test_given_data_when_the_operator_changes_the_schema_then_a_verified_backup_comes_first(
    installation: Installation,
) -> None:
    """`roost --version`, `roost db downgrade` and `roost db upgrade`: each change
    of a schema holding data is preceded by a backup, verified and named;
    `--no-backup` warns; a migration that cannot be undone is refused, naming
    the backup to restore."""
    roost = installation.roost
    version = roost("--version").out.strip()
    assert version == f"roost {_pyproject_version()}", version
    first = roost("db", "upgrade")
    assert "backup" not in first.out  # an empty database: nothing to back up
    roost("accounts", "create", "alice", "--email", "a@example.org", "--password", PASSWORD)

    head = _head_revision()
    before = _revision_before(head)
    down = roost("db", "downgrade", before)
    assert f"schema at revision {before} (was {head}" in down.out, down
    backup_line = next(line for line in down.out.splitlines() if line.startswith("backup "))
    assert backup_line.startswith("backup taken and verified first: ")
    assert Path(backup_line.rsplit(": ", 1)[1]).is_file()

    up = roost("db", "upgrade")
    taken = next(line for line in up.out.splitlines() if line.startswith("backup "))
    backup = Path(taken.rsplit(": ", 1)[1])
    assert backup.is_file() and backup.parent == installation.data_dir / "backups", up
    assert backup.with_name(backup.name + ".verified.json").is_file()
    assert f"schema at revision {head}" in up.out

    skipped = roost("db", "downgrade", before, "--no-backup")
    assert "warning: --no-backup" in skipped.err and "backup taken" not in skipped.out
    again = roost("db", "upgrade", "--no-backup")
    assert "warning: --no-backup" in again.err and f"schema at revision {head}" in again.out
    refused = installation.fails("db", "downgrade", "0005", says="migration 0007 cannot be undone")
    assert "roost backup restore " in refused.err and "nothing was changed" in refused.err
    installation.fails("db", "downgrade", head, says=f"{head} is not behind it")
    installation.fails("db", "downgrade", "0042_nope", says="not a schema revision")
    assert "up to date" in roost("db", "status").out


def _pyproject_version() -> str:
    import tomllib

    root = Path(__file__).resolve().parents[2]
    return str(tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"])


def test_given_two_databases_when_the_operator_checks_them_then_the_differing_rows_are_named(
    installation: Installation, backend: str, request: pytest.FixtureRequest
) -> None:
    """`roost check replicas` against a second, empty database names the rows
    only this one holds and prints a plan; `roost check derived` finds the
    counters and the search index in agreement."""
    roost = installation.roost
    roost("accounts", "create", "alice", "--email", "a@example.org", "--password", PASSWORD)
    other: dict[str, str] = {}
    if backend == "postgres":
        server = request.getfixturevalue("postgres_url")
        name = f"roost_fresh_other_{secrets.token_hex(4)}"
        asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
        request.addfinalizer(
            lambda: asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        )
        other["database_url"] = f"{server.rpartition('/')[0]}/{name}"
        against = other["database_url"]
    else:
        other["data_dir"] = str(installation.home / "other")
        against = f"sqlite:///{installation.home / 'other' / 'roost.sqlite3'}"
    roost("db", "upgrade", **other)

    checked = roost("check", "replicas", "--against", against, expect=1)
    assert "range(s) differ" in checked.out
    assert "accounts " in checked.out and ": only in primary" in checked.out
    assert "repair plan (the primary is right):" in checked.out
    assert "on the replica: INSERT the primary's row of accounts WHERE id = " in checked.out
    trusting = roost("check", "replicas", "--against", against, "--trust", "replica", expect=1)
    assert "on the primary: DELETE FROM accounts WHERE id = " in trusting.out
    installation.fails("check", "replicas", "--against", against, "--trust", "both", says="--trust")

    derived = roost("check", "derived")
    assert "agree with the database" in derived.out
    assert "agree" in roost("check", "derived", "--repair").out


def test_given_a_strike_appealed_on_the_web_when_staff_decide_with_roost_appeals_then_it_is_undone(
    installation: Installation,
) -> None:
    """`roost appeals list|accept|reject` beside a served installation: staff
    silence an account over the admin API with a text, the account appeals on
    its strike's page, and accepting the appeal lifts the silence."""
    from tests.web.support import Browser, csrf

    roost = installation.roost
    assert roost("appeals", "list").out.strip() == "no appeal awaits a decision"
    base = installation.serve()
    roost("accounts", "create", "alice", "--email", "a@example.org", "--password", PASSWORD,
          "--admin")  # fmt: skip
    roost("accounts", "create", "bob", "--email", "b@example.org", "--password", PASSWORD)
    admin_token = roost(
        "tokens", "create", "alice", "--scopes", "read write admin:read admin:write"
    ).out.strip()
    admin = {"Authorization": f"Bearer {admin_token}"}
    bob_id = httpx.get(f"{base}/api/v1/accounts/lookup", params={"acct": "bob"}).json()["id"]
    acted = httpx.post(
        f"{base}/api/v1/admin/accounts/{bob_id}/action",
        headers=admin,
        data={"type": "silence", "text": "Too many ads"},
    )
    assert acted.status_code == 200, acted.text

    with httpx.Client(base_url=base) as client:
        browser = Browser(client)

        def call(method: str, path: str, **kwargs: Any) -> Any:
            # A busy machine's server may answer 503 with Retry-After; a
            # browser's user tries again, and so does this one.
            for _ in range(20):
                answer = getattr(browser, method)(path, **kwargs)
                if answer.status_code != 503:
                    return answer
                time.sleep(min(float(answer.headers.get("retry-after", "1")), 1.0))
            return answer

        page = call("get", "/auth/sign_in")
        signed = call(
            "post",
            "/auth/sign_in",
            data={"csrf_token": csrf(page.text), "login": "bob", "password": PASSWORD},
        )
        assert signed.status_code in (200, 303), signed.text[:300]
        listed = call("get", "/settings/strikes")
        assert listed.status_code == 200 and "only your followers" in listed.text
        strike_id = listed.text.split('href="/settings/strikes/')[1].split('"')[0]
        strike = call("get", f"/settings/strikes/{strike_id}")
        assert "Too many ads" in strike.text
        appealed = call(
            "post",
            f"/settings/strikes/{strike_id}/appeal",
            data={"csrf_token": csrf(strike.text), "text": "They were my own shop's posts"},
        )
        assert appealed.status_code in (200, 303), appealed.text[:300]

    waiting = roost("appeals", "list").out.strip()
    assert waiting.startswith("appeal ") and "against silence" in waiting, waiting
    assert waiting.endswith("[pending]: They were my own shop's posts"), waiting
    appeal_id = waiting.split()[1]
    installation.fails("appeals", "accept", "4242424242", says="not found")
    accepted = roost("appeals", "accept", appeal_id).out.strip()
    assert accepted == f"appeal {appeal_id} accepted: the silence is undone"
    shown = httpx.get(f"{base}/api/v1/admin/accounts/{bob_id}", headers=admin).json()
    assert shown["silenced"] is False
    installation.fails("appeals", "reject", appeal_id, says="already decided")
    assert "[approved]" in roost("appeals", "list", "--all").out


def test_given_a_fresh_installation_when_a_hash_list_is_imported_then_a_listed_image_is_kept_out(
    installation: Installation,
) -> None:
    from tests.known_images import pictures

    roost, home = installation.roost, installation.home
    roost("db", "upgrade")
    picture = home / "stand-in.png"
    picture.write_bytes(pictures.png(17, (256, 192)))
    listed = home / "hotline.txt"
    listed.write_text(f"# a hotline's list\n{pictures.pdq_hex(picture.read_bytes())} stand-in\n")
    imported = roost("hashes", "import", str(listed), "--list", "hotline")
    assert imported.out.strip() == "list hotline: 1 pdq hashes"
    assert roost("hashes", "list").out.startswith("hotline\tpdq\t1 hashes\timported ")
    installation.fails("emoji", "add", "standin", str(picture), says="could not be processed")
    assert "standin" not in roost("emoji", "list").out
    quarantined = roost("hashes", "quarantine", "--limit", "5").out
    assert (
        "\temoji\taccount -\timage/png\t" in quarantined
        and "list hotline (distance 0)" in quarantined
    )
    item = quarantined.split("\t", 1)[0]
    evidence = home / "evidence.png"
    assert roost("hashes", "open", item, "--out", str(evidence)).out.startswith("wrote ")
    assert evidence.read_bytes() == picture.read_bytes()
    audit = roost("audit", "list").out
    assert "known_image.open" in audit and "by console" in audit
    assert "known_image.refuse quarantined_media" in audit and "by the server (automatic)" in audit
    installation.fails("hashes", "open", item, "--out", str(evidence), says="exists")
    installation.fails("hashes", "import", str(picture), "--list", "x", says="cannot read")
    assert roost("hashes", "remove", "hotline").out.strip() == "removed list hotline"
    assert roost("hashes", "list").out.strip() == "no known-image lists"
    installation.fails("hashes", "remove", "hotline", says="no list named 'hotline'")


def test_given_a_spam_wave_when_staff_use_roost_spam_then_one_action_covers_the_cluster(
    installation: Installation,
) -> None:
    """`roost spam clusters|show|act` beside a served installation: five new
    accounts post one advertisement worded a little differently over the
    API; the server's own jobs cluster them; staff see the cluster, mark it
    not spam, then (the wave growing again) suspend all five at once."""
    roost = installation.roost
    assert roost("spam", "clusters").out.strip() == "no spam clusters"
    base = installation.serve()
    roost("roles", "create", "Triage", "--permissions", "manage_reports")
    roost("accounts", "create", "tri", "--email", "tri@example.org", "--password", PASSWORD)
    roost("roles", "grant", "tri", "Triage")
    tokens = []
    for n in range(6):
        name = f"wave{n}"
        roost("accounts", "create", name, "--email", f"{name}@example.org", "--password", PASSWORD)
        tokens.append(roost("tokens", "create", name).out.strip())

    def post(n: int) -> None:
        posted = httpx.post(
            f"{base}/api/v1/statuses",
            headers={"Authorization": f"Bearer {tokens[n]}"},
            data={"status": f"Claim your free crypto bonus now at https://bonus.example/{n} "
                  "before it runs out, limited offer for new members only"},
        )  # fmt: skip
        assert posted.status_code == 200, posted.text

    for n in range(5):
        post(n)
    wait_for(lambda: " 5 posts " in roost("spam", "clusters").out, 30, "the cluster")
    listed = roost("spam", "clusters", "--as", "tri").out
    cluster_id = listed.split()[0]
    assert "by 5 accounts (5 new)" in listed and "bonus.example" in listed
    assert "@wave0" in roost("spam", "show", cluster_id).out
    installation.fails("spam", "act", cluster_id, says="exactly one of")
    installation.fails("spam", "act", cluster_id, "--suspend", "--as", "tri", says="manage_users")
    done = roost("spam", "act", cluster_id, "--not-spam", "--as", "tri").out.strip()
    assert done == f"spam cluster {cluster_id}: marked not spam, 0 held posts released"
    assert roost("spam", "clusters").out.strip() == "no spam clusters"
    assert " not_spam " in roost("spam", "clusters", "--all").out
    post(5)
    done = roost("spam", "act", cluster_id, "--suspend").out.strip()
    assert done == f"spam cluster {cluster_id}: 5 accounts suspended" or done.endswith(
        ": 6 accounts suspended"
    )
    installation.fails("spam", "show", "4242424242", says="no spam cluster")
    assert roost("audit", "verify").out.startswith("audit log intact: ")


def test_given_two_accounts_when_the_operator_aliases_and_moves_one_then_the_move_holds(
    installation: Installation,
) -> None:
    roost, fails = installation.roost, installation.fails
    for name in ("alice", "alice2"):
        roost("accounts", "create", name, "--email", f"{name}@example.org", "--password", PASSWORD)
    fails("accounts", "move", "alice", "alice2", says="alias")
    fails("accounts", "alias", "add", "alice2", "nobody", says="No such account")
    fails("accounts", "alias", "add", "nobody", "alice", says="no account named nobody")

    added = roost("accounts", "alias", "add", "alice2", "@alice").out
    assert added.startswith("@alice2 is also known as alice (") and "/users/alice)" in added
    [listed] = roost("accounts", "alias", "list", "alice2").out.strip().splitlines()
    assert listed.startswith("alice\t") and listed.endswith("/users/alice")
    moved = roost("accounts", "move", "alice", "alice2").out
    assert moved.startswith("@alice moved to alice2 (")
    assert roost("accounts", "alias", "remove", "alice2", "alice").out.strip() == (
        "removed the alias alice"
    )
    assert roost("accounts", "alias", "list", "alice2").out.strip() == ""
    fails("accounts", "alias", "remove", "alice2", "alice", says="has no alias alice")


# --- the list holds -----------------------------------------------------------


def _commands(group: typer.Typer) -> set[tuple[str, ...]]:
    """Every runnable command of the app, as its words: ("backup", "create")."""
    found: set[tuple[str, ...]] = set()

    def walk(command: Any, path: tuple[str, ...]) -> None:
        # A group has subcommands (Typer's own click, not the click package).
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for name, sub in subcommands.items():
                walk(sub, (*path, name))
        else:
            found.add(path)

    walk(typer.main.get_command(group), ())
    return found


def _run_here() -> set[tuple[str, ...]]:
    """The leading literal words of every command the tests above run."""
    tree = ast.parse(Path(__file__).read_text())
    run: set[tuple[str, ...]] = set()
    for function in ast.walk(tree):
        if not (isinstance(function, ast.FunctionDef) and function.name.startswith("test_")):
            continue
        for call in ast.walk(function):
            if not isinstance(call, ast.Call):
                continue
            name = getattr(call.func, "attr", getattr(call.func, "id", ""))
            if name == "serve":
                run.add(("serve",))
            elif name in ("roost", "fails", "start"):
                words: list[str] = []
                for arg in call.args:
                    if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                        break
                    words.append(arg.value)
                run.add(tuple(words))
    return run


def test_every_command_runs_here_in_a_fresh_process() -> None:
    """Given the app's commands, when this module is read, then each one is run
    by some test above as its own process (a new command needs a test here)."""
    commands = _commands(app)
    # The enumeration itself works: it sees the groups' subcommands.
    assert {("serve",), ("backup", "create"), ("accounts", "erase")} <= commands, commands
    run = _run_here()
    missing = sorted(
        " ".join(command)
        for command in commands
        if not any(words[: len(command)] == command for words in run)
    )
    assert not missing, f"commands no fresh-process test runs: {missing}"
