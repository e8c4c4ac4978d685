"""Mastodon.py's admin account methods against a live Roost: the v2 list and
its filters, every action (each leaving a strike the account reads as a
``moderation_warning`` notification) and its lifting, approving and rejecting
sign-ups on a server that asks for approval, and deleting a suspended
account's data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mastodon import Mastodon
from mastodon.errors import MastodonAPIError

from tests.clients.conftest import PASSWORD, LiveServer, eventually, own_server

pytestmark = pytest.mark.clients

ADMIN_SCOPES = "read write follow admin:read admin:write"


def _ids(items: list[dict[str, object]]) -> list[str]:
    return [str(item["id"]) for item in items]


def test_given_staff_when_they_moderate_with_mastodon_py_then_each_action_and_its_lifting_work(
    live_server: LiveServer,
) -> None:
    target, other, mod = live_server.people("target", "other", "moderator")
    assert live_server.roost("roles", "grant", mod.username, "Moderator").returncode == 0
    staff = live_server.client(live_server.create_token(mod.username, ADMIN_SCOPES))

    staff.admin_account_moderate(target.id, action="silence", text="Too loud")
    staff.admin_account_moderate(target.id, action="sensitive", send_email_notification=False)

    shown = staff.admin_account(target.id)
    assert shown["silenced"] is True and shown["sensitized"] is True
    silenced = staff.admin_accounts_v2(status="silenced", username=target.username)
    assert _ids(silenced) == [target.id]
    assert staff.admin_accounts_v2(status="silenced", username=other.username) == []
    assert _ids(staff.admin_accounts_v2(permissions="staff", username=mod.username)) == [mod.id]
    assert staff.admin_accounts_v2(origin="remote") == []
    strikes = eventually(
        lambda: list(target.api.notifications(types=["moderation_warning"])) or None
    )
    actions = sorted(n["moderation_warning"]["action"] for n in strikes)
    assert actions == ["sensitive", "silence"]
    said = [n["moderation_warning"]["text"] for n in strikes]
    assert "Too loud" in said

    assert staff.admin_account_unsilence(target.id)["silenced"] is False
    assert staff.admin_account_unsensitive(target.id)["sensitized"] is False

    staff.admin_account_moderate(target.id, action="disable", text="Take a break")
    assert staff.admin_account(target.id)["disabled"] is True
    with pytest.raises(MastodonAPIError, match="disabled"):
        target.api.account_verify_credentials()
    assert staff.admin_account_enable(target.id)["disabled"] is False
    assert str(target.api.account_verify_credentials()["id"]) == target.id

    staff.admin_account_moderate(other.id, action="suspend", text="Spam")
    assert staff.admin_account(other.id)["suspended"] is True
    assert staff.admin_account_unsuspend(other.id)["suspended"] is False

    listed = live_server.roost("audit", "list", "--limit", "12").stdout
    for action in ("account.silence", "account.enable", "account.unsuspend"):
        assert action in listed, listed
    assert live_server.roost("audit", "verify").returncode == 0


def test_given_a_suspended_account_when_an_admin_deletes_it_with_mastodon_py_then_it_is_gone(
    deletion_server: LiveServer,
) -> None:
    # A server of its own, and what the CLI writes afterwards must reach it:
    # once, after an erasure through the API, a server was seen reading a
    # snapshot from before the CLI's later writes (see docs/operations.md).
    (target,) = deletion_server.people("doomed")
    admin_name = f"{target.username}admin"
    deletion_server.create_account(admin_name)
    assert deletion_server.roost("roles", "grant", admin_name, "Admin").returncode == 0
    staff = deletion_server.client(deletion_server.create_token(admin_name, ADMIN_SCOPES))

    with pytest.raises(MastodonAPIError):
        staff.admin_account_delete(target.id)  # not suspended yet: 403
    staff.admin_account_moderate(target.id, action="suspend")
    staff.admin_account_delete(target.id)

    with pytest.raises(MastodonAPIError):
        staff.admin_account(target.id)

    # Then the running server sees an account and a token the CLI makes.
    later = f"{target.username}later"
    deletion_server.create_account(later)
    newcomer = deletion_server.client(deletion_server.create_token(later))
    assert newcomer.account_verify_credentials()["username"] == later
    assert staff.account_lookup(later)["username"] == later


@pytest.fixture(scope="module")
def approval_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A second live server that asks staff to approve each sign-up."""
    yield from own_server(
        tmp_path_factory,
        "approval",
        {"ROOST_REGISTRATIONS": "approval", "ROOST_RATE_LIMIT_SIGN_UPS": "1000000"},
    )


@pytest.fixture(scope="module")
def deletion_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server for the deletion test alone (open sign-ups)."""
    yield from own_server(
        tmp_path_factory,
        "deletion",
        {"ROOST_REGISTRATIONS": "open", "ROOST_RATE_LIMIT_SIGN_UPS": "1000000"},
    )


def test_given_sign_ups_awaiting_approval_when_staff_approve_and_reject_with_mastodon_py(
    approval_server: LiveServer,
) -> None:
    approval_server.create_account("boss")
    assert approval_server.roost("roles", "grant", "boss", "Admin").returncode == 0
    staff = approval_server.client(approval_server.create_token("boss", ADMIN_SCOPES))
    client_id, client_secret = Mastodon.create_app(
        "approval tests", api_base_url=approval_server.url, request_timeout=10
    )
    tokens = {}
    for name in ("welcome", "unwelcome"):
        api = approval_server.client(client_id=client_id, client_secret=client_secret)
        tokens[name] = api.create_account(
            name, PASSWORD, f"{name}@example.org", agreement=True, reason="I like herons"
        )
        assert approval_server.roost("accounts", "confirm", name).returncode == 0

    pending = staff.admin_accounts_v2(status="pending")
    by_name = {a["username"]: a for a in pending}
    assert set(by_name) == {"welcome", "unwelcome"}
    assert by_name["welcome"]["invite_request"] == "I like herons"

    staff.admin_account_approve(by_name["welcome"]["id"])
    staff.admin_account_reject(by_name["unwelcome"]["id"])

    welcome = approval_server.client(tokens["welcome"])
    assert welcome.account_verify_credentials()["username"] == "welcome"
    assert staff.admin_accounts_v2(status="pending") == []
    assert "unwelcome" not in [a["username"] for a in staff.admin_accounts_v2()]
    with pytest.raises(MastodonAPIError):
        staff.admin_account_approve(by_name["welcome"]["id"])  # not pending: 403


def test_the_approval_server_writes_no_traceback(approval_server: LiveServer) -> None:
    assert "Traceback" not in Path(approval_server.log_path).read_text()
