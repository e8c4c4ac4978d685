"""Direct messages: conversations, their unread state, the direct timeline."""

from __future__ import annotations

from tests.conftest import Roost


def test_given_a_dm_then_both_sides_have_a_conversation_and_the_recipient_an_unread_one(
    roost: Roost,
) -> None:
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    dm = alice.post_status("@bob lunch?", visibility="direct")

    mine = alice.get("/api/v1/conversations").json()
    theirs = bob.get("/api/v1/conversations").json()

    assert [c["last_status"]["id"] for c in mine] == [dm["id"]]
    assert [a["id"] for a in mine[0]["accounts"]] == [bob.id]
    assert mine[0]["unread"] is False
    assert [a["id"] for a in theirs[0]["accounts"]] == [alice.id]
    assert theirs[0]["unread"] is True
    assert mine[0]["id"] != theirs[0]["id"]
    assert carol.get("/api/v1/conversations").json() == []
    assert [s["id"] for s in bob.get("/api/v1/timelines/direct").json()] == [dm["id"]]
    assert carol.get("/api/v1/timelines/direct").json() == []


def test_given_a_reply_when_sent_then_it_joins_the_conversation_and_marks_it_unread(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    dm = alice.post_status("@bob lunch?", visibility="direct")
    entry = bob.get("/api/v1/conversations").json()[0]
    read = bob.post(f"/api/v1/conversations/{entry['id']}/read").json()
    assert read["unread"] is False and read["id"] == entry["id"]

    answer = bob.post_status("@alice yes", visibility="direct", in_reply_to_id=dm["id"])

    for user, unread in ((alice, True), (bob, False)):
        entries = user.get("/api/v1/conversations").json()
        assert len(entries) == 1
        assert entries[0]["last_status"]["id"] == answer["id"]
        assert entries[0]["unread"] is unread


def test_given_a_conversation_when_removed_then_gone_until_the_next_message(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    dm = alice.post_status("@bob one", visibility="direct")
    entry = bob.get("/api/v1/conversations").json()[0]
    assert bob.delete(f"/api/v1/conversations/{entry['id']}").status_code == 200
    assert bob.get("/api/v1/conversations").json() == []
    assert bob.delete(f"/api/v1/conversations/{entry['id']}").status_code == 404
    # Someone else's conversation id is not found either.
    other = alice.get("/api/v1/conversations").json()[0]["id"]
    assert bob.post(f"/api/v1/conversations/{other}/read").status_code == 404

    alice.post_status("@bob two", visibility="direct", in_reply_to_id=dm["id"])

    assert len(bob.get("/api/v1/conversations").json()) == 1


def test_given_the_newest_message_deleted_then_the_one_before_is_shown(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    first = alice.post_status("@bob first", visibility="direct")
    second = alice.post_status("@bob second", visibility="direct", in_reply_to_id=first["id"])
    alice.delete(f"/api/v1/statuses/{second['id']}")
    entries = bob.get("/api/v1/conversations").json()
    assert [c["last_status"]["id"] for c in entries] == [first["id"]]
    alice.delete(f"/api/v1/statuses/{first['id']}")
    assert bob.get("/api/v1/conversations").json() == []


def test_given_a_dm_to_someone_who_blocks_the_sender_then_it_is_not_delivered(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    bob.post(f"/api/v1/accounts/{alice.id}/block")
    dm = alice.post_status("@bob hello?", visibility="direct")
    roost.drain_jobs()
    assert bob.get("/api/v1/conversations").json() == []
    assert bob.get("/api/v1/timelines/direct").json() == []
    assert bob.get("/api/v1/notifications").json() == []
    assert bob.get(f"/api/v1/statuses/{dm['id']}").status_code == 404
    # Even after the block is lifted, the undelivered message stays undelivered.
    bob.post(f"/api/v1/accounts/{alice.id}/unblock")
    assert bob.get("/api/v1/conversations").json() == []


def test_given_a_conversation_when_the_recipient_blocks_later_then_it_leaves_their_list(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    alice.post_status("@bob hi", visibility="direct")
    bob.post(f"/api/v1/accounts/{alice.id}/block")
    assert bob.get("/api/v1/conversations").json() == []
    # Alice keeps her own message, but no longer sees who blocked her in it.
    (entry,) = alice.get("/api/v1/conversations").json()
    assert entry["accounts"] == []


def test_given_a_group_dm_then_each_sees_the_others(roost: Roost) -> None:
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    alice.post_status("@bob @carol plans", visibility="direct")
    accounts = {a["id"] for a in carol.get("/api/v1/conversations").json()[0]["accounts"]}
    assert accounts == {alice.id, bob.id}
