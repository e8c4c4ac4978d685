"""Mastodon.py with quote posts (Mastodon 4.5): quoting, listing quotes,
changing the policy, revoking."""

from __future__ import annotations

import pytest
from mastodon import MastodonAPIError

from tests.clients.conftest import LiveServer

pytestmark = pytest.mark.clients


def test_given_mastodon_py_when_quoting_then_the_quote_policy_and_revoking_work(
    live_server: LiveServer,
) -> None:
    alice, bob = live_server.people("quoted", "quoter")
    original = alice.api.status_post("worth quoting", quote_approval_policy="public")
    assert original["quote_approval"]["automatic"] == ["public"]
    quoting = bob.api.status_post("indeed", quoted_status_id=original["id"])
    assert quoting["quote"]["state"] == "accepted"
    assert quoting["quote"]["quoted_status"]["id"] == original["id"]
    assert [s["id"] for s in alice.api.status_quotes(original["id"])] == [quoting["id"]]

    closed = alice.api.status_update_quote_approval_policy(original["id"], "nobody")
    assert closed["quote_approval"]["automatic"] == []
    with pytest.raises(MastodonAPIError):
        bob.api.status_post("again", quoted_status_id=original["id"])

    revoked = alice.api.status_quote_revoke(original["id"], quoting["id"])
    assert revoked["id"] == quoting["id"]
    assert revoked["quote"]["state"] == "revoked"
    assert alice.api.status_quotes(original["id"]) == []


def test_given_mastodon_py_when_setting_the_default_quote_policy_then_new_posts_take_it(
    live_server: LiveServer,
) -> None:
    alice, bob = live_server.people("careful", "stranger")
    me = alice.api.account_update_credentials(default_quote_policy="nobody")
    assert me["source"]["quote_policy"] == "nobody"
    assert alice.api.preferences()["posting:default:quote_policy"] == "nobody"
    post = alice.api.status_post("not for quoting")
    assert post["quote_approval"]["automatic"] == []
    with pytest.raises(MastodonAPIError):
        bob.api.status_post("quoting anyway", quoted_status_id=post["id"])
    muted = bob.api.status_post(
        "fine",
        quoted_status_id=alice.api.status_post("this one may be", quote_approval_policy="public")[
            "id"
        ],
    )
    bob.api.account_mute(alice.api.me()["id"])
    assert bob.api.status(muted["id"])["quote"]["state"] == "muted_account"
