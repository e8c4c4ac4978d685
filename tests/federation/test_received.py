"""Activities from another server acted on, and what Roost sends back: a
Follow of a locked account becomes a request whose approval is answered
with Accept; a local follow of the remote account is accepted; a
followers-only Note shows to followers only and a Delete removes it; a Note
claimed for someone else is not stored. The other server is the one of
tests/federation/peers.py, which records what it is sent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from roost.db.tables import inbox_activities
from roost.domain.blocks.domains import BlockChange, do_block_domain, do_unblock_domain, rule_for
from tests.conftest import Roost, User
from tests.federation.peers import PUBLIC, Peer, serve

pytestmark = pytest.mark.settings(federation_allow_insecure=True)


@pytest.fixture
def peer() -> Iterator[Peer]:
    with serve() as actor:
        yield actor


def _bodies(roost: Roost) -> list[str]:
    async def read() -> list[str]:
        async with roost.db.read() as conn:
            rows = await conn.execute(
                select(inbox_activities.c.body).order_by(inbox_activities.c.id)
            )
            return [str(r.body) for r in rows]

    return roost.run(read)


def _states(roost: Roost) -> list[str]:
    async def read() -> list[str]:
        async with roost.db.read() as conn:
            rows = await conn.execute(
                select(inbox_activities.c.state).order_by(inbox_activities.c.id)
            )
            return [str(r.state) for r in rows]

    return roost.run(read)


def test_given_a_locked_account_when_a_remote_follow_comes_then_its_approval_is_an_accept(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice", locked=True)
    follow_id = f"{peer.uri}#follows/1"
    alice_uri = f"{roost.settings.base_url}/users/alice"

    peer.send(roost, {"id": follow_id, "type": "Follow", "actor": peer.uri, "object": alice_uri})

    [request] = alice.get("/api/v1/follow_requests").json()
    assert request["acct"] == f"mallory@{peer.domain}"
    assert request["uri"] == peer.uri and request["url"] == f"{peer.base}/@mallory"
    # The bio is HTML, cleaned; the display name is plain text (clients escape it).
    assert request["note"] == "<p>hi</p>"
    assert request["display_name"] == "Mallory <script>x</script>"
    assert peer.sent_of("Accept") == []
    assert alice.post(f"/api/v1/follow_requests/{request['id']}/authorize").status_code == 200
    roost.drain_jobs()
    [accept] = peer.sent_of("Accept")
    assert accept["actor"] == alice_uri
    assert accept["object"]["id"] == follow_id
    me = alice.get("/api/v1/accounts/verify_credentials").json()
    assert me["followers_count"] == 1

    # Undo(Follow) ends it.
    peer.send(
        roost,
        {
            "id": f"{peer.uri}#undo/1",
            "type": "Undo",
            "actor": peer.uri,
            "object": {"id": follow_id, "type": "Follow", "actor": peer.uri, "object": alice_uri},
        },
    )
    assert alice.get("/api/v1/accounts/verify_credentials").json()["followers_count"] == 0
    assert _states(roost) == ["handled", "handled"]


def _follow_mallory(roost: Roost, peer: Peer, alice: User) -> str:
    """alice follows mallory; mallory's server accepts. Mallory's local id."""
    found = alice.get(
        "/api/v2/search", params={"q": f"@mallory@{peer.domain}", "resolve": "true"}
    ).json()
    [mallory] = found["accounts"]
    assert alice.post(f"/api/v1/accounts/{mallory['id']}/follow").json()["requested"] is True
    roost.drain_jobs()
    [follow] = peer.sent_of("Follow")
    assert follow["object"] == peer.uri
    peer.send(
        roost,
        {"id": f"{peer.uri}#accepts/1", "type": "Accept", "actor": peer.uri, "object": follow},
    )
    [rel] = alice.get("/api/v1/accounts/relationships", params={"id": mallory["id"]}).json()
    assert rel["following"] is True and rel["requested"] is False
    return str(mallory["id"])


def _note(peer: Peer, n: int, **fields: Any) -> dict[str, Any]:
    note = {
        "id": f"{peer.uri}/statuses/{n}",
        "type": "Note",
        "attributedTo": peer.uri,
        "content": f"<p>note {n}</p>",
        "published": "2026-01-02T03:04:05Z",
        "to": [f"{peer.uri}/followers"],
        "cc": [],
        **fields,
    }
    return {
        "id": f"{note['id']}/activity",
        "type": "Create",
        "actor": peer.uri,
        "object": note,
    }


def test_given_alice_follows_mallory_when_a_followers_only_note_comes_then_only_followers_see_it(
    roost: Roost, peer: Peer
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    mallory_id = _follow_mallory(roost, peer, alice)

    peer.send(roost, _note(peer, 1))

    [post] = [p for p in alice.get("/api/v1/timelines/home").json() if "note 1" in p["content"]]
    assert post["visibility"] == "private"
    assert post["account"]["id"] == mallory_id
    assert post["uri"] == f"{peer.uri}/statuses/1"
    assert alice.get(f"/api/v1/statuses/{post['id']}").status_code == 200
    assert bob.get(f"/api/v1/statuses/{post['id']}").status_code == 404
    assert roost.client.get(f"/api/v1/statuses/{post['id']}").status_code == 404

    # A public one is seen by anyone; a note claimed for another author is not stored.
    peer.send(roost, _note(peer, 2, to=[PUBLIC], cc=[f"{peer.uri}/followers"]))
    posts = alice.get(f"/api/v1/accounts/{mallory_id}/statuses").json()
    public = next(p for p in posts if "note 2" in p["content"])
    assert bob.get(f"/api/v1/statuses/{public['id']}").json()["visibility"] == "public"
    bob.post_status("a local one")

    def public_timeline(**params: str) -> list[str]:
        answer = roost.client.get("/api/v1/timelines/public", params=params).json()
        return [p["content"] for p in answer]

    assert any("note 2" in c for c in public_timeline())
    assert any("a local one" in c for c in public_timeline())
    assert not any("note 2" in c for c in public_timeline(local="true"))
    assert any("a local one" in c for c in public_timeline(local="true"))
    assert [c for c in public_timeline(remote="true")] == [public["content"]]
    forged = _note(peer, 3, to=[PUBLIC])
    forged["object"]["attributedTo"] = f"{peer.base}/users/eve"
    peer.send(roost, forged)
    assert not any("note 3" in p["content"] for p in alice.get("/api/v1/timelines/home").json())

    # Delete of the followers-only note: gone from alice's home and by id.
    peer.send(
        roost,
        {
            "id": f"{peer.uri}/statuses/1#delete",
            "type": "Delete",
            "actor": peer.uri,
            "object": {"id": f"{peer.uri}/statuses/1", "type": "Tombstone"},
        },
    )
    assert alice.get(f"/api/v1/statuses/{post['id']}").status_code == 404
    assert not any("note 1" in p["content"] for p in alice.get("/api/v1/timelines/home").json())
    assert _states(roost) == ["handled", "handled", "handled", "unhandled", "handled"]
    # Nor is the note's text left in the activities that brought it (their
    # bodies are emptied once processed).
    assert _bodies(roost) == [""] * 5


def test_given_mallory_follows_alice_when_alice_posts_and_deletes_then_mallory_is_sent_both(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    alice_uri = f"{roost.settings.base_url}/users/alice"
    follow = {"id": f"{peer.uri}#follows/9", "type": "Follow", "actor": peer.uri}
    peer.send(roost, {**follow, "object": alice_uri})
    [accept] = peer.sent_of("Accept")
    assert accept["object"]["id"] == follow["id"]

    direct = alice.post_status("only for someone", visibility="direct")
    private = alice.post_status("for my followers", visibility="private")
    roost.drain_jobs()
    [create] = peer.sent_of("Create")
    assert create["object"]["id"] == private["uri"]
    assert create["object"]["to"] == [f"{alice_uri}/followers"]
    assert "PUBLIC" not in orjson.dumps(create).decode().upper().replace("PUBLISHED", "")
    assert direct["uri"] not in orjson.dumps(peer.received).decode()

    assert alice.delete(f"/api/v1/statuses/{private['id']}").status_code == 200
    roost.drain_jobs()
    [delete] = peer.sent_of("Delete")
    assert delete["object"] == {"id": private["uri"], "type": "Tombstone"}

    # The direct post was never sent there: its deletion is not either.
    assert alice.delete(f"/api/v1/statuses/{direct['id']}").status_code == 200
    roost.drain_jobs()
    assert direct["uri"] not in orjson.dumps(peer.received).decode()
    # Deliveries went to mallory's server's shared inbox (one per server).
    assert peer.received  # recorded by the handler, whatever the path


def _block(roost: Roost, severity: str) -> None:
    async def block() -> None:
        async with roost.db.write() as tx:
            await do_block_domain(tx, "127.0.0.1", BlockChange(severity=severity))

    roost.run(block)


def test_given_mallorys_server_suspended_then_nothing_of_it_is_fetched_stored_or_sent_to(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    _block(roost, "suspend")
    found = alice.get(
        "/api/v2/search", params={"q": f"@mallory@{peer.domain}", "resolve": "true"}
    ).json()
    assert found["accounts"] == []
    alice_uri = f"{roost.settings.base_url}/users/alice"
    peer.send(
        roost, {"id": f"{peer.uri}#f", "type": "Follow", "actor": peer.uri, "object": alice_uri}
    )
    assert _states(roost) == ["failed"]
    assert alice.get("/api/v1/accounts/verify_credentials").json()["followers_count"] == 0
    assert peer.received == []


def test_given_mallorys_server_silenced_then_her_account_is_stored_silenced(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    _block(roost, "silence")
    mallory_id = _follow_mallory(roost, peer, alice)
    peer.send(roost, _note(peer, 1, to=[PUBLIC]))
    # Her followers still hear her; the public timeline leaves her out.
    assert any("note 1" in p["content"] for p in alice.get("/api/v1/timelines/home").json())
    public = roost.client.get("/api/v1/timelines/public").json()
    assert not any(p["account"]["id"] == mallory_id for p in public)


def test_given_a_note_addressed_to_alice_only_then_it_is_direct_and_hers_alone(
    roost: Roost, peer: Peer
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    alice_uri = f"{roost.settings.base_url}/users/alice"
    mention = {"type": "Mention", "href": alice_uri, "name": "@alice"}

    peer.send(roost, _note(peer, 5, to=[alice_uri], cc=[], tag=[mention]))
    peer.send(roost, _note(peer, 6, to=[f"{peer.base}/users/eve"], cc=[]))

    [conversation] = alice.get("/api/v1/conversations").json()
    post = conversation["last_status"]
    assert post["visibility"] == "direct" and "note 5" in post["content"]
    assert post["account"]["acct"] == f"mallory@{peer.domain}"
    # A private mention from a stranger waits as a request (Mastodon's policy).
    [request] = alice.get("/api/v1/notifications/requests").json()
    assert request["account"]["acct"] == f"mallory@{peer.domain}"
    assert bob.get(f"/api/v1/statuses/{post['id']}").status_code == 404
    # A note for nobody here is not stored.
    assert _states(roost) == ["handled", "unhandled"]


def test_given_mallory_when_she_updates_then_leaves_then_her_profile_follows_and_she_is_hidden(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    mallory_id = _follow_mallory(roost, peer, alice)
    peer.send(roost, _note(peer, 1, to=[PUBLIC]))

    # Update: the profile is read again from her server, not from the activity.
    peer.name = "Mallory Renamed"
    forged = {**peer.document(), "name": "Forged"}
    peer.send(
        roost,
        {"id": f"{peer.uri}#updates/1", "type": "Update", "actor": peer.uri, "object": forged},
    )
    assert alice.get(f"/api/v1/accounts/{mallory_id}").json()["display_name"] == "Mallory Renamed"

    # Unfollowing sends Undo of the very Follow that was accepted.
    [follow] = peer.sent_of("Follow")
    assert alice.post(f"/api/v1/accounts/{mallory_id}/unfollow").status_code == 200
    roost.drain_jobs()
    [undo] = peer.sent_of("Undo")
    assert undo["object"]["id"] == follow["id"] and undo["actor"] == follow["actor"]

    # Delete of the actor: her account and posts are hidden here.
    peer.send(
        roost, {"id": f"{peer.uri}#delete", "type": "Delete", "actor": peer.uri, "object": peer.uri}
    )
    assert alice.get(f"/api/v1/accounts/{mallory_id}").status_code == 404
    assert roost.client.get("/api/v1/timelines/public").json() == []
    assert set(_states(roost)) == {"handled"}


@pytest.mark.parametrize(
    "query", ["@bob@[::1", "@bob@a..b", "@bob@" + "a" * 300 + ".com", "@b ob@x.example", "@@x"]
)
def test_given_a_malformed_address_when_resolved_then_nothing_is_found(
    roost: Roost, query: str
) -> None:
    alice = roost.account("alice")
    found = alice.get("/api/v2/search", params={"q": query, "resolve": "true"})
    assert found.status_code == 200, found.text
    assert found.json()["accounts"] == []


def test_given_alices_post_when_mallory_replies_from_her_server_then_it_is_in_the_thread(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    question = alice.post_status("what do pelicans eat?")
    alice_uri = f"{roost.settings.base_url}/users/alice"
    mention = {"type": "Mention", "href": alice_uri, "name": "@alice"}

    peer.send(
        roost,
        _note(peer, 7, to=[PUBLIC], cc=[alice_uri], tag=[mention], inReplyTo=question["uri"]),
    )

    context = alice.get(f"/api/v1/statuses/{question['id']}/context").json()
    [reply] = context["descendants"]
    assert "note 7" in reply["content"]
    assert reply["in_reply_to_id"] == question["id"]
    assert reply["in_reply_to_account_id"] == alice.id
    assert alice.get(f"/api/v1/statuses/{question['id']}").json()["replies_count"] == 1
    [notification] = alice.get("/api/v1/notifications").json()
    assert notification["type"] == "mention" and notification["status"]["id"] == reply["id"]


def test_given_nobody_here_follows_mallory_when_she_sends_a_public_note_then_it_is_not_stored(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    peer.send(roost, _note(peer, 8, to=[PUBLIC]))
    assert roost.client.get("/api/v1/timelines/public").json() == []
    assert _states(roost) == ["unhandled"]
    # Once alice follows her, her notes are taken.
    _follow_mallory(roost, peer, alice)
    peer.send(roost, _note(peer, 9, to=[PUBLIC]))
    [post] = roost.client.get("/api/v1/timelines/public").json()
    assert "note 9" in post["content"]


def test_given_mallorys_posts_stored_when_her_server_is_suspended_then_they_are_no_longer_shown(
    roost: Roost, peer: Peer
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    mallory_id = _follow_mallory(roost, peer, alice)
    peer.send(roost, _note(peer, 1, to=[PUBLIC]))
    [post] = [p for p in alice.get("/api/v1/timelines/home").json() if "note 1" in p["content"]]
    assert bob.get(f"/api/v1/statuses/{post['id']}").status_code == 200

    _block(roost, "suspend")

    assert alice.get(f"/api/v1/statuses/{post['id']}").status_code == 404
    assert bob.get(f"/api/v1/statuses/{post['id']}").status_code == 404
    assert not any("note 1" in p["content"] for p in alice.get("/api/v1/timelines/home").json())
    assert not any(
        "note 1" in p["content"] for p in roost.client.get("/api/v1/timelines/public").json()
    )
    assert bob.get(f"/api/v1/accounts/{mallory_id}").status_code == 404

    # Lifting the suspension shows them again.
    async def lift() -> None:
        async with roost.db.write() as tx:
            block = await rule_for(tx.conn, "127.0.0.1")
            assert block is not None
            await do_unblock_domain(tx, block.id)

    roost.run(lift)
    assert bob.get(f"/api/v1/statuses/{post['id']}").status_code == 200
