"""`roost rules`, `roost invites` and `roost accounts confirm`, as the
installed program run by an operator, against the same data as a server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from roost.config import Settings
from tests.conftest import Roost

ROOST = Path(sys.executable).with_name("roost")


def _roost(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "ROOST_DATA_DIR": str(settings.data_dir)}
    env["ROOST_SECRET_KEY"] = settings.secret_key
    if settings.database_url:
        env["ROOST_DATABASE_URL"] = settings.database_url
    return subprocess.run(
        [str(ROOST), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_given_rules_added_by_the_operator_then_apps_and_the_about_page_show_them(
    roost: Roost,
) -> None:
    added = _roost(roost.settings, "rules", "add", "Be kind", "--hint", "No harassment")
    assert added.returncode == 0, added.stderr
    _roost(roost.settings, "rules", "add", "No spam")
    answer = roost.client.get("/api/v1/instance/rules").json()
    assert [(r["text"], r["hint"]) for r in answer] == [
        ("Be kind", "No harassment"),
        ("No spam", ""),
    ]
    assert roost.client.get("/api/v2/instance").json()["rules"] == answer
    assert "No harassment" in roost.client.get("/about").text
    listed = _roost(roost.settings, "rules", "list")
    assert "1. [" in listed.stdout and "Be kind" in listed.stdout
    removed = _roost(roost.settings, "rules", "remove", answer[0]["id"])
    assert removed.returncode == 0
    assert [r["text"] for r in roost.client.get("/api/v1/instance/rules").json()] == ["No spam"]
    wrong = _roost(roost.settings, "rules", "remove", "42")
    assert wrong.returncode == 1 and "Traceback" not in wrong.stderr
    assert len(wrong.stderr.strip().splitlines()) == 1


def test_given_an_invite_then_its_link_opens_sign_up_until_revoked(roost: Roost) -> None:
    made = _roost(roost.settings, "invites", "create", "--max-uses", "3", "--expires-in", "7d")
    assert made.returncode == 0, made.stderr
    link = made.stdout.strip()
    assert link.startswith(f"{roost.settings.base_url}/invite/")
    path = link.removeprefix(roost.settings.base_url)
    assert roost.client.get(path).status_code == 200
    listed = _roost(roost.settings, "invites", "list").stdout
    assert "usable" in listed and "uses 0/3" in listed
    code = path.rsplit("/", 1)[-1]
    assert _roost(roost.settings, "invites", "revoke", code).returncode == 0
    assert roost.client.get(path).status_code == 403
    assert "revoked" in _roost(roost.settings, "invites", "list").stdout
    bad = _roost(roost.settings, "invites", "create", "--expires-in", "soon")
    assert bad.returncode == 1 and "--expires-in" in bad.stderr


def test_given_an_invite_made_as_a_staff_account_then_those_it_brings_in_are_listed_as_theirs(
    roost: Roost,
) -> None:
    from roost.config import Registrations
    from roost.domain.accounts.sign_up import SignUp, do_sign_up
    from tests.api.test_admin import staff

    admin = staff(roost, "keeper")
    made = _roost(roost.settings, "invites", "create", "--as", "keeper")
    assert made.returncode == 0, made.stderr
    code = made.stdout.strip().rsplit("/", 1)[-1]
    console = _roost(roost.settings, "invites", "create").stdout.strip().rsplit("/", 1)[-1]

    async def sign_up(name: str, invite: str) -> str:
        request = SignUp(
            name, f"{name}@example.org", "a long enough pw 1", True, invite_code=invite
        )
        async with roost.db.write() as tx:
            return str((await do_sign_up(tx, Registrations.CLOSED, request)).account_id)

    guest = roost.run(lambda: sign_up("guest", code))
    roost.run(lambda: sign_up("other", console))
    listed = admin.get("/api/v2/admin/accounts", params={"invited_by": admin.id}).json()
    assert [a["id"] for a in listed] == [guest]
    assert listed[0]["invited_by_account_id"] == admin.id


def test_given_an_unconfirmed_account_when_the_operator_confirms_it_then_it_signs_in(
    roost: Roost,
) -> None:
    from roost.domain.accounts.actions import NewAccount, do_create_account

    async def create() -> None:
        async with roost.db.write() as tx:
            await do_create_account(
                tx,
                NewAccount(
                    username="carol",
                    email="carol@example.org",
                    password="long enough pw",
                    confirmed=False,
                ),
            )

    roost.run(create)
    done = _roost(roost.settings, "accounts", "confirm", "carol")
    assert done.returncode == 0 and "confirmed" in done.stdout
    again = _roost(roost.settings, "accounts", "confirm", "carol")
    assert again.returncode == 0 and "already" in again.stdout
    missing = _roost(roost.settings, "accounts", "confirm", "nobody")
    assert missing.returncode == 1 and missing.stderr.strip() == "roost: no account named nobody"
