"""Console commands that change the instance are in the audit log: who ran
them (the operator, or the staff member named with ``--as``, whose role must
grant the command's permission), what they changed, with the permission the
command needs; a command refused or that changed nothing leaves no entry."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import update
from typer.testing import CliRunner, Result

from roost.cli.main import app
from roost.db.tables import jobs
from roost.domain.audit.chain import Entry, entries, verify
from roost.domain.notifications.jobs import Notify
from roost.jobs.outbox import enqueue
from tests.api.staff_support import grant, make_role
from tests.conftest import Roost

runner = CliRunner()


@pytest.fixture
def cli_env(roost: Roost, monkeypatch: pytest.MonkeyPatch) -> Roost:
    s = roost.settings
    monkeypatch.setenv("ROOST_DATA_DIR", str(s.data_dir))
    monkeypatch.setenv("ROOST_SECRET_KEY", s.secret_key)
    if not roost.db.is_sqlite:
        monkeypatch.setenv("ROOST_DATABASE_URL", s.database_url)
    return roost


def _roost(*args: str) -> Result:
    result = runner.invoke(app, list(args))
    return result


def _ok(*args: str) -> str:
    result = _roost(*args)
    assert result.exit_code == 0, result.output
    return result.output


def _audit(roost: Roost) -> list[Entry]:
    async def read() -> list[Entry]:
        async with roost.db.read() as conn:
            return list(reversed(await entries(conn, limit=200)))

    return roost.run(read)


def _intact(roost: Roost) -> bool:
    async def check() -> bool:
        async with roost.db.read() as conn:
            return (await verify(conn)).intact

    return roost.run(check)


def _parked_job(roost: Roost) -> int:
    async def park() -> int:
        async with roost.db.write() as tx:
            job_id = await enqueue(tx, Notify(type="mention", account_id=1, from_account_id=0))
            await tx.execute(update(jobs).where(jobs.c.id == job_id).values(state="parked"))
        return job_id

    return roost.run(park)


def _png(path: Path) -> Path:
    buffer = io.BytesIO()
    Image.new("RGBA", (16, 16), (200, 30, 30, 255)).save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return path


def test_given_the_operator_changes_the_instance_at_the_console_then_each_change_is_an_entry(
    cli_env: Roost, tmp_path: Path
) -> None:
    roost = cli_env
    featured = roost.account("featured")
    before = len(_audit(roost))
    rule = _ok("rules", "add", "Be kind", "--hint", "Disagree without contempt").split()[2][:-1]
    _ok("rules", "remove", rule)
    _ok("emoji", "add", "blob", str(_png(tmp_path / "blob.png")))
    _ok("emoji", "remove", "blob")
    announcement = _ok("announcements", "add", "Moving on Sunday").split()[-1]
    _ok("announcements", "remove", announcement)
    job = _parked_job(roost)
    _ok("jobs", "retry", str(job))
    _ok("jobs", "retry", "--all-parked")  # nothing parked: nothing changed, no entry
    _ok("invites", "create", "--max-uses", "3", "--expires-in", "1d")
    _ok("email-domains", "block", "spam.example")
    _ok("email-domains", "block", "spam.example")  # already: no entry
    _ok("email-domains", "unblock", "spam.example")
    _ok("suggestions", "feature", "featured")
    _ok("suggestions", "unfeature", "featured")
    preset = _ok("warning-presets", "create", "Keep it civil", "--title", "Civil").split()[3][:-1]
    _ok("warning-presets", "remove", preset)

    made = _audit(roost)[before:]
    assert [(e.action, e.permission) for e in made] == [
        ("rule.create", "manage_rules"),
        ("rule.remove", "manage_rules"),
        ("custom_emoji.create", "manage_custom_emojis"),
        ("custom_emoji.remove", "manage_custom_emojis"),
        ("announcement.create", "manage_announcements"),
        ("announcement.remove", "manage_announcements"),
        ("job.retry", "devops"),
        ("invite.create", "manage_invites"),
        ("email_domain_block.create", "manage_blocks"),
        ("email_domain_block.destroy", "manage_blocks"),
        ("account.feature", "manage_taxonomies"),
        ("account.unfeature", "manage_taxonomies"),
        ("warning_preset.create", "manage_settings"),
        ("warning_preset.remove", "manage_settings"),
    ]
    assert all(e.details["via"] == "console" and e.actor_account_id is None for e in made)
    assert made[0].subject_id == rule
    assert made[0].personal == {"text": "Be kind", "hint": "Disagree without contempt"}
    assert made[2].details["shortcode"] == "blob"
    assert made[4].personal == {"text": "Moving on Sunday"}
    assert (made[6].subject_id, made[6].details["jobs"]) == (str(job), 1)
    assert made[7].details == {"via": "console", "max_uses": 3, "expires_in_s": 86400}
    assert made[8].details["domain"] == "spam.example"
    assert made[10].target_account_id == int(featured.id)
    assert made[12].subject_id == preset
    assert made[12].personal == {"title": "Civil", "text": "Keep it civil"}
    assert _intact(roost)


def test_given_as_a_staff_member_then_their_role_must_allow_it_and_the_entry_names_them(
    cli_env: Roost,
) -> None:
    roost = cli_env
    writer = roost.account("writer")
    triager = roost.account("triager")
    make_role(roost, "Writers", 1 << 12)  # manage_rules
    grant(roost, writer, "Writers")
    make_role(roost, "Triagers", 1 << 4)  # manage_reports
    grant(roost, triager, "Triagers")
    before = len(_audit(roost))

    refused = _roost("rules", "add", "No spam", "--as", "triager")
    assert refused.exit_code == 1 and "does not grant manage_rules" in refused.output
    refused = _roost("announcements", "add", "Hello", "--as", "writer")
    assert refused.exit_code == 1 and "does not grant manage_announcements" in refused.output
    refused = _roost("warning-presets", "create", "Be nice", "--as", "writer")
    assert refused.exit_code == 1 and "does not grant manage_settings" in refused.output
    assert _ok("rules", "list").startswith("no rules yet")

    _ok("rules", "add", "No spam", "--as", "writer")
    [entry] = _audit(roost)[before:]
    assert entry.action == "rule.create" and entry.actor_account_id == int(writer.id)
    assert entry.details["via"] == "console"
