"""Real clients over discovery: megalodon's server detection (npm), and
Mastodon.py on the directory, suggestions, featured tags, endorsements,
familiar followers, domain blocks, the instance's extras and the list stream."""

from __future__ import annotations

import subprocess
import threading
from typing import Any

import pytest
from mastodon import Mastodon, StreamListener

from tests.clients.conftest import LiveServer, Person, eventually
from tests.clients.js_harness import NODE, js_harness

pytestmark = [pytest.mark.clients, pytest.mark.timeout(300)]


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_given_a_roost_server_then_megalodon_detects_mastodon(live_server: LiveServer) -> None:
    assert NODE is not None
    harness = js_harness()
    detected = subprocess.run(
        [NODE, str(harness / "detect.mjs"), live_server.url],
        cwd=harness,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert detected.returncode == 0, detected.stderr
    assert detected.stdout.strip() == "mastodon"


def _as_4_4(live_server: LiveServer, person: Person) -> Mastodon:
    """A client that calls Mastodon 4.4's methods (endorse, tag feature) without
    checking the version the server reports."""
    return Mastodon(
        access_token=person.token,
        api_base_url=live_server.url,
        request_timeout=10,
        version_check_mode="none",
    )


def test_given_people_then_mastodon_py_reads_directory_suggestions_and_familiar_followers(
    live_server: LiveServer,
) -> None:
    me, friend, fof = live_server.people("seeker", "friend", "fof")
    fof.api.status_post("active in the directory")
    me.api.account_follow(friend.id)
    friend.api.account_follow(fof.id)

    newest = me.api.directory(order="new", limit=80)
    assert {fof.id, friend.id, me.id} <= {str(a["id"]) for a in newest}
    active = me.api.directory(order="active", limit=1)
    assert str(active[0]["id"]) == fof.id

    v2 = me.api.suggestions_v2()
    assert [(str(s["account"]["id"]), s["sources"]) for s in v2] == [
        (fof.id, ["friends_of_friends"])
    ]
    me.api.suggestion_delete(fof.id)
    assert me.api.suggestions_v2() == []

    familiar = me.api.account_familiar_followers(fof.id)
    assert [str(a["id"]) for a in familiar[0]["accounts"]] == [friend.id]
    assert [str(a["id"]) for a in me.api.accounts([fof.id, friend.id])] == [fof.id, friend.id]


def test_given_a_profile_then_mastodon_py_features_tags_and_endorses(
    live_server: LiveServer,
) -> None:
    alice, bob = live_server.people("featurer", "endorsed")
    alice.api.status_post("#gardening today")
    suggested = eventually(lambda: alice.api.featured_tag_suggestions())
    assert [t["name"].lower() for t in suggested] == ["gardening"]
    created = alice.api.featured_tag_create("gardening")
    assert created["name"].lower() == "gardening" and created["statuses_count"] == "1"
    assert [t["id"] for t in bob.api.account_featured_tags(alice.id)] == [created["id"]]
    assert _as_4_4(live_server, alice).tag_feature("birds")["featuring"] is True
    assert len(alice.api.featured_tags()) == 2
    alice.api.featured_tag_delete(created["id"])
    assert [t["name"].lower() for t in alice.api.featured_tags()] == ["birds"]

    alice.api.account_follow(bob.id)
    assert _as_4_4(live_server, alice).account_endorse(bob.id)["endorsed"] is True
    assert [str(a["id"]) for a in alice.api.endorsements()] == [bob.id]
    alice.api.account_unpin(bob.id)
    assert alice.api.endorsements() == []


def test_given_domain_blocks_then_mastodon_py_stores_and_lists_them(
    live_server: LiveServer,
) -> None:
    (carol,) = live_server.people("domains")
    carol.api.domain_block("spam.example")
    carol.api.domain_block("ads.example")
    assert carol.api.domain_blocks() == ["ads.example", "spam.example"]
    carol.api.domain_unblock("spam.example")
    assert carol.api.domain_blocks() == ["ads.example"]


def test_given_the_instance_then_mastodon_py_reads_its_extras(live_server: LiveServer) -> None:
    (dave,) = live_server.people("reader")
    api = dave.api
    assert api.instance_health() is True
    nodeinfo = api.instance_nodeinfo()
    assert nodeinfo["software"]["name"] == "roost" and nodeinfo["usage"]["users"]["total"] >= 1
    weeks = api.instance_activity()
    assert len(weeks) == 12 and int(weeks[0]["registrations"]) >= 1
    assert api.instance_peers() == []
    assert any(lang["code"] == "en" for lang in api.instance_languages())
    assert api.instance_extended_description()["content"]


class _Collector(StreamListener):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.updates: list[dict[str, Any]] = []
        self.arrived = threading.Event()

    def on_update(self, status: dict[str, Any]) -> None:
        self.updates.append(status)
        self.arrived.set()


def test_given_a_list_stream_then_mastodon_py_receives_its_members_posts(
    live_server: LiveServer,
) -> None:
    reader, member, outsider = live_server.people("lister", "member", "outsider")
    reader.api.account_follow(member.id)
    reader.api.account_follow(outsider.id)
    made = reader.api.list_create("friends")
    reader.api.list_accounts_add(made["id"], [member.id])
    collector = _Collector()
    handle = reader.api.stream_list(made["id"], collector, run_async=True, reconnect_async=False)
    try:
        threading.Event().wait(1.0)
        outsider.api.status_post("not for the list")
        post = member.api.status_post("for the list")
        eventually(
            lambda: any(str(s["id"]) == str(post["id"]) for s in collector.updates), timeout=10
        )
    finally:
        handle.close()
    assert [s["content"] for s in collector.updates] == ["<p>for the list</p>"]
