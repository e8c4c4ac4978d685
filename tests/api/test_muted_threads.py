"""The ``muted`` flag of a muted thread, on every post the viewer reads, and
only for that viewer."""

from __future__ import annotations

from tests.conftest import Roost


def test_given_a_muted_thread_then_every_read_of_its_posts_says_muted_for_the_muter_only(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    alice.follow(bob)
    bob.follow(alice)
    root = bob.post_status("a thread")
    reply = alice.post_status("@bob a reply", in_reply_to_id=root["id"])
    deeper = bob.post_status("@alice deeper", in_reply_to_id=reply["id"])
    other = bob.post_status("another thread")
    boost = bob.post(f"/api/v1/statuses/{deeper['id']}/reblog").json()
    roost.drain_jobs()

    def flags(user: object, items: list[dict[str, object]]) -> dict[str, bool]:
        shown = {}
        for s in items:
            inner = s.get("reblog") or s
            shown[str(inner["id"])] = bool(inner["muted"])  # type: ignore[index]
        return shown

    # Read once before muting: the cached JSON must not keep the old flag.
    assert not any(flags(alice, alice.get("/api/v1/timelines/home").json()).values())
    assert alice.post(f"/api/v1/statuses/{reply['id']}/mute").json()["muted"] is True

    home = flags(alice, alice.get("/api/v1/timelines/home").json())
    assert home == {root["id"]: True, reply["id"]: True, deeper["id"]: True, other["id"]: False}
    assert boost["reblog"]["id"] == deeper["id"]
    assert alice.get(f"/api/v1/statuses/{deeper['id']}").json()["muted"] is True
    assert alice.get(f"/api/v1/statuses/{other['id']}").json()["muted"] is False
    context = alice.get(f"/api/v1/statuses/{deeper['id']}/context").json()
    assert all(s["muted"] for s in context["ancestors"])
    listed = alice.get(f"/api/v1/accounts/{bob.id}/statuses").json()
    assert flags(alice, listed)[root["id"]] is True
    many = alice.get("/api/v1/statuses", params={"id[]": [root["id"], other["id"]]}).json()
    assert [s["muted"] for s in many] == [True, False]

    # Bob did not mute it; the same posts read by him say so.
    assert not any(flags(bob, bob.get("/api/v1/timelines/home").json()).values())
    assert bob.get(f"/api/v1/statuses/{root['id']}").json()["muted"] is False

    alice.post(f"/api/v1/statuses/{root['id']}/unmute")
    assert not any(flags(alice, alice.get("/api/v1/timelines/home").json()).values())
