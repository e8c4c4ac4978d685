"""A local post's ``replies`` collection, which other servers walk to fill in
a thread, and the ``inReplyTo`` of a local reply to another server's post."""

from __future__ import annotations

import pytest

from tests.conftest import Roost
from tests.federation.test_received import PUBLIC, Peer, _follow_mallory, _note, peer

__all__ = ["peer"]

pytestmark = pytest.mark.settings(federation_allow_insecure=True)

AP = {"Accept": "application/activity+json"}


def test_given_replies_of_each_visibility_when_the_collection_is_read_then_only_listed_ones_show(
    roost: Roost,
) -> None:
    # Given alice's public post with a public, an unlisted, a followers-only
    # and a direct reply, and a reply to a reply
    alice, bob = roost.account("alice"), roost.account("bob")
    base = roost.settings.base_url
    post = alice.post_status("a question")
    public = bob.post_status("an answer", in_reply_to_id=post["id"])
    unlisted = bob.post_status("quieter", in_reply_to_id=post["id"], visibility="unlisted")
    bob.post_status("friends only", in_reply_to_id=post["id"], visibility="private")
    bob.post_status("@alice only you", in_reply_to_id=post["id"], visibility="direct")
    bob.post_status("deeper", in_reply_to_id=public["id"])
    # When another server reads the Note, then its collection's first page
    note = roost.client.get(f"/users/alice/statuses/{post['id']}", headers=AP).json()
    uri = f"{base}/users/alice/statuses/{post['id']}/replies"
    assert note["replies"] == {"id": uri, "type": "Collection", "first": f"{uri}?page=true"}
    collection = roost.client.get(f"/users/alice/statuses/{post['id']}/replies", headers=AP)
    assert collection.json()["first"] == f"{uri}?page=true"
    page = roost.client.get(note["replies"]["first"].removeprefix(base), headers=AP).json()
    # Then only the public and unlisted direct replies are named, oldest first
    assert page["type"] == "CollectionPage" and page["partOf"] == uri
    assert page["items"] == [
        f"{base}/users/bob/statuses/{public['id']}",
        f"{base}/users/bob/statuses/{unlisted['id']}",
    ]
    assert "next" not in page


def test_given_a_hidden_post_when_its_replies_are_asked_for_then_404_and_pages_follow_on(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    secret = alice.post_status("friends only", visibility="private")
    alice.post_status("seen by friends", in_reply_to_id=secret["id"])
    hidden = roost.client.get(f"/users/alice/statuses/{secret['id']}/replies", headers=AP)
    assert hidden.status_code == 404
    wrong = roost.client.get(f"/users/bob/statuses/{secret['id']}/replies", headers=AP)
    assert wrong.status_code == 404
    # Twenty-one replies: a full first page names the next one.
    post = alice.post_status("many answers")
    answers = [bob.post_status(f"answer {n}", in_reply_to_id=post["id"]) for n in range(21)]
    base = roost.settings.base_url
    first = roost.client.get(
        f"/users/alice/statuses/{post['id']}/replies", params={"page": "true"}, headers=AP
    ).json()
    assert len(first["items"]) == 20
    second = roost.client.get(first["next"].removeprefix(base), headers=AP).json()
    assert second["items"] == [f"{base}/users/bob/statuses/{answers[-1]['id']}"]
    assert "next" not in second


def test_given_a_local_reply_to_another_servers_post_then_its_note_names_that_servers_address(
    roost: Roost, peer: Peer
) -> None:
    # Given mallory's note on another server, known here
    alice = roost.account("alice")
    _follow_mallory(roost, peer, alice)
    peer.send(roost, _note(peer, 1, to=[PUBLIC], cc=[f"{peer.uri}/followers"]))
    [theirs] = [
        p for p in alice.get("/api/v1/timelines/home").json() if p["uri"].startswith(peer.uri)
    ]
    # When alice answers it publicly
    reply = alice.post_status("my answer", in_reply_to_id=theirs["id"])
    # Then the Note another server fetches names mallory's own address
    note = roost.client.get(f"/users/alice/statuses/{reply['id']}", headers=AP).json()
    assert note["inReplyTo"] == f"{peer.uri}/statuses/1"
    # And the Create sent to mallory's server names it too
    roost.drain_jobs()
    [create] = [a for a in peer.sent_of("Create") if a["object"]["id"] == note["id"]]
    assert create["object"]["inReplyTo"] == f"{peer.uri}/statuses/1"
    assert create["object"]["replies"]["id"] == f"{note['id']}/replies"


def test_given_a_direct_post_to_mallory_when_deleted_then_the_delete_reaches_her_server_only(
    roost: Roost, peer: Peer
) -> None:
    # Given alice's direct post to mallory, on another server, sent there
    alice = roost.account("alice")
    _follow_mallory(roost, peer, alice)
    direct = alice.post_status(f"@mallory@{peer.domain} just you", visibility="direct")
    roost.drain_jobs()
    [create] = [a for a in peer.sent_of("Create") if a["object"]["id"] == direct["uri"]]
    assert create["object"]["to"] == [peer.uri]
    # When alice deletes it
    assert alice.delete(f"/api/v1/statuses/{direct['id']}").status_code == 200
    roost.drain_jobs()
    # Then mallory's server is told, addressed to nobody else
    [delete] = [a for a in peer.sent_of("Delete") if a["object"]["id"] == direct["uri"]]
    assert delete["to"] == []
    assert "Public" not in str(delete)
