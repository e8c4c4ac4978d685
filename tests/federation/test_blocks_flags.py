"""Blocks and reports across servers, both ways: what Roost sends mallory's
server (a plain HTTP server of the test's own, which records it) when a
local account blocks or reports her, and what it does with her signed Block,
Undo(Block) and Flag."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.staff_support import ADMIN_SCOPES, grant
from tests.conftest import Roost, User
from tests.federation.test_received import (
    PUBLIC,
    Peer,
    _follow_mallory,
    _note,
    _states,
    peer,
)
from tests.web.support_app import signed_in_browser

pytestmark = pytest.mark.settings(federation_allow_insecure=True)
__all__ = ["peer"]  # the fixture, shared with test_received


def _mallory_follows(roost: Roost, peer: Peer, name: str) -> None:
    uri = f"{roost.settings.base_url}/users/{name}"
    follow = {"id": f"{peer.uri}#follows/{name}", "type": "Follow", "actor": peer.uri}
    peer.send(roost, {**follow, "object": uri})


def _relationship(user: User, account_id: str) -> dict[str, Any]:
    [shown] = user.get("/api/v1/accounts/relationships", params={"id[]": account_id}).json()
    return dict(shown)


def _block(peer: Peer, roost: Roost, name: str, n: int = 1) -> dict[str, Any]:
    return {
        "id": f"{peer.uri}#blocks/{n}",
        "type": "Block",
        "actor": peer.uri,
        "object": f"{roost.settings.base_url}/users/{name}",
    }


def test_given_follows_both_ways_when_alice_blocks_mallory_then_a_block_goes_and_unblock_undoes(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    mallory_id = _follow_mallory(roost, peer, alice)
    _mallory_follows(roost, peer, "alice")
    assert _relationship(alice, mallory_id)["following"] is True
    assert _relationship(alice, mallory_id)["followed_by"] is True

    assert alice.post(f"/api/v1/accounts/{mallory_id}/block").status_code == 200
    roost.drain_jobs()

    alice_uri = f"{roost.settings.base_url}/users/alice"
    [block] = peer.sent_of("Block")
    assert block["actor"] == alice_uri and block["object"] == peer.uri
    assert block["id"].startswith(f"{alice_uri}#blocks/")
    # The follows it ended are ended there too: her follow rejected, alice's undone.
    [reject] = peer.sent_of("Reject")
    assert reject["object"]["actor"] == peer.uri
    [undo_follow] = peer.sent_of("Undo")
    assert undo_follow["object"]["type"] == "Follow"
    shown = _relationship(alice, mallory_id)
    assert shown["blocking"] is True
    assert shown["following"] is False and shown["followed_by"] is False
    me = alice.get("/api/v1/accounts/verify_credentials").json()
    assert me["followers_count"] == 0 and me["following_count"] == 0

    # Her followers-only and public posts go nowhere near her now.
    alice.post_status("after the block")
    roost.drain_jobs()
    assert peer.sent_of("Create") == []

    # Blocking again sends nothing more; unblocking sends Undo(Block) of the same id.
    alice.post(f"/api/v1/accounts/{mallory_id}/block")
    roost.drain_jobs()
    assert len(peer.sent_of("Block")) == 1
    assert alice.post(f"/api/v1/accounts/{mallory_id}/unblock").status_code == 200
    roost.drain_jobs()
    undo = [u for u in peer.sent_of("Undo") if u["object"]["type"] == "Block"]
    assert [u["object"]["id"] for u in undo] == [block["id"]]
    assert undo[0]["actor"] == alice_uri
    assert _relationship(alice, mallory_id)["blocking"] is False


def test_given_a_local_account_blocking_a_local_one_then_nothing_is_sent(
    roost: Roost, peer: Peer
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    _mallory_follows(roost, peer, "alice")
    assert alice.post(f"/api/v1/accounts/{bob.id}/block").status_code == 200
    alice.post(f"/api/v1/accounts/{bob.id}/unblock")
    roost.drain_jobs()
    assert peer.sent_of("Block") == [] and peer.sent_of("Undo") == []


def test_given_follows_both_ways_when_mallory_blocks_alice_then_they_end_and_nothing_reaches_her(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    mallory_id = _follow_mallory(roost, peer, alice)
    _mallory_follows(roost, peer, "alice")
    alice.post_status("before the block")
    roost.drain_jobs()
    assert len(peer.sent_of("Create")) == 1
    before = {n["id"] for n in alice.get("/api/v1/notifications").json()}

    peer.send(roost, _block(peer, roost, "alice"))

    shown = _relationship(alice, mallory_id)
    assert shown["blocked_by"] is True and shown["blocking"] is False
    assert shown["following"] is False and shown["followed_by"] is False
    me = alice.get("/api/v1/accounts/verify_credentials").json()
    assert me["followers_count"] == 0 and me["following_count"] == 0
    # Silent, as on Mastodon: alice is told nothing (her follow's notice goes).
    after = {n["id"] for n in alice.get("/api/v1/notifications").json()}
    assert after <= before
    assert _states(roost)[-1] == "handled"

    # Nothing of alice's goes to her: not a public post, not one naming her.
    alice.post_status("public again")
    alice.post_status(f"@mallory@{peer.domain} are you there?")
    alice.post_status(f"@mallory@{peer.domain} just you", visibility="direct")
    roost.drain_jobs()
    assert len(peer.sent_of("Create")) == 1

    # Her Undo(Block) lifts it; the follows do not come back.
    peer.send(
        roost,
        {
            "id": f"{peer.uri}#blocks/1/undo",
            "type": "Undo",
            "actor": peer.uri,
            "object": _block(peer, roost, "alice"),
        },
    )
    shown = _relationship(alice, mallory_id)
    assert shown["blocked_by"] is False and shown["following"] is False
    alice.post_status(f"@mallory@{peer.domain} hello again")
    roost.drain_jobs()
    assert len(peer.sent_of("Create")) == 2


def test_given_mallorys_block_of_nobody_here_then_it_is_unhandled(roost: Roost, peer: Peer) -> None:
    roost.account("alice")
    peer.send(roost, _block(peer, roost, "nobody"))
    assert _states(roost) == ["unhandled"]


def _moderator(roost: Roost) -> User:
    mod = roost.account("mod", scopes=ADMIN_SCOPES)
    grant(roost, mod, "Moderator")
    return mod


def test_given_mallorys_post_when_alice_reports_it_forwarded_then_a_flag_goes_from_the_server(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    mallory_id = _follow_mallory(roost, peer, alice)
    peer.send(roost, _note(peer, 1, to=[PUBLIC], cc=[f"{peer.uri}/followers"]))
    [post] = [p for p in alice.get("/api/v1/timelines/home").json() if "note 1" in p["content"]]

    kept_here = alice.post(
        "/api/v1/reports", data={"account_id": mallory_id, "comment": "only for staff here"}
    )
    assert kept_here.status_code == 200, kept_here.text
    roost.drain_jobs()
    assert peer.sent_of("Flag") == []

    # As Mastodon's apps send it: JSON, ``forward`` a boolean.
    filed = alice.post(
        "/api/v1/reports",
        json={
            "account_id": mallory_id,
            "status_ids": [post["id"]],
            "comment": "spam, again",
            "forward": True,
        },
    )
    assert filed.status_code == 200, filed.text
    roost.drain_jobs()

    [flag] = peer.sent_of("Flag")
    instance_actor = f"{roost.settings.base_url}/actor"
    assert flag["actor"] == instance_actor
    assert flag["id"] == f"{instance_actor}#reports/{filed.json()['id']}"
    assert flag["object"] == [peer.uri, post["uri"]]
    assert flag["content"] == "spam, again"
    # The reporter is not named anywhere in it.
    assert "alice" not in str(flag)


def test_given_a_flag_from_mallorys_server_then_staff_see_a_report_from_that_domain(
    roost: Roost, peer: Peer
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    mod = _moderator(roost)
    post = alice.post_status("something reported elsewhere")
    others = bob.post_status("bob's, named by mistake")
    base = roost.settings.base_url
    flag = {
        "id": f"{peer.base}/reports/1",
        "type": "Flag",
        "actor": peer.uri,
        "content": "harassing our users",
        "object": [f"{base}/users/alice", post["uri"], others["uri"], f"{peer.base}/x"],
    }
    peer.send(roost, flag)
    assert _states(roost) == ["handled"]

    [report] = mod.get("/api/v1/admin/reports").json()
    assert report["target_account"]["id"] == alice.id
    assert report["account"]["domain"] == peer.domain
    assert report["comment"] == "harassing our users"
    assert [s["id"] for s in report["statuses"]] == [post["id"]]
    assert report["forwarded"] is False
    # Staff who handle reports are notified, as of any report.
    kinds = [n["type"] for n in mod.get("/api/v1/notifications").json()]
    assert "admin.report" in kinds
    # The moderation queue names the server, not a person.
    page = signed_in_browser(roost, mod).get(f"/admin/queue/{report['id']}")
    assert page.status_code == 200
    assert peer.domain in page.text

    # A Flag naming nobody here files nothing.
    peer.send(roost, {**flag, "id": f"{peer.base}/reports/2", "object": [f"{peer.base}/x"]})
    assert len(mod.get("/api/v1/admin/reports").json()) == 1
    assert _states(roost) == ["handled", "unhandled"]
