"""What a received note carries besides its text, shown to clients as
Mastodon shows it: its hashtags (the same tags local posts use), its media
(by their remote addresses until fetched), its poll (with the counts its
server reports), and the accounts of a third server it mentions. The other
server is the plain HTTP server of tests/federation/test_received.py."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Roost
from tests.federation.test_received import PUBLIC, Peer, _follow_mallory, _note, peer
from tests.known_images import pictures
from tests.known_images.support import import_list, quarantine_rows, stored_files

pytestmark = pytest.mark.settings(federation_allow_insecure=True)
__all__ = ["peer"]


def _hashtag(peer: Peer, name: str) -> dict[str, Any]:
    return {"type": "Hashtag", "href": f"{peer.base}/tags/{name.lower()}", "name": f"#{name}"}


def test_given_remote_notes_with_hashtags_then_tag_timelines_show_them_as_local_posts(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    _follow_mallory(roost, peer, alice)
    local = alice.post_status("mine #Roosting")
    followers = [f"{peer.uri}/followers"]

    peer.send(roost, _note(peer, 1, to=[PUBLIC], cc=followers, tag=[_hashtag(peer, "ROOSTING")]))
    peer.send(roost, _note(peer, 2, to=followers, cc=[PUBLIC], tag=[_hashtag(peer, "roosting")]))
    peer.send(roost, _note(peer, 3, to=followers, tag=[_hashtag(peer, "roosting")]))
    peer.send(roost, _note(peer, 4, to=[PUBLIC], tag=[{"type": "Hashtag", "name": "#no such"}]))

    tagged = roost.client.get("/api/v1/timelines/tag/roosting").json()
    # Public ones only, remote and local alike, through one tag row.
    assert [p["uri"] for p in tagged] == [f"{peer.uri}/statuses/1", local["uri"]]
    assert tagged[0]["tags"] == [local["tags"][0]]
    assert [
        p["content"]
        for p in roost.client.get(
            "/api/v1/timelines/tag/roosting", params={"remote": "true"}
        ).json()
    ] == ["<p>note 1</p>"]
    home = {p["uri"]: p for p in alice.get("/api/v1/timelines/home").json()}
    # Unlisted and followers-only ones keep their tags, out of the tag timeline.
    assert [t["name"] for t in home[f"{peer.uri}/statuses/2"]["tags"]] == ["roosting"]
    assert [t["name"] for t in home[f"{peer.uri}/statuses/3"]["tags"]] == ["roosting"]
    assert home[f"{peer.uri}/statuses/4"]["tags"] == []

    # An edit that changes the tags moves the post to its new tag.
    edited = _note(peer, 1, to=[PUBLIC], cc=followers, tag=[_hashtag(peer, "Perching")])
    edited["object"].update(content="<p>now perching</p>", updated="2026-01-03T00:00:00Z")
    peer.send(roost, {**edited, "type": "Update", "id": f"{peer.uri}/statuses/1#u1"})
    assert [p["uri"] for p in roost.client.get("/api/v1/timelines/tag/roosting").json()] == [
        local["uri"]
    ]
    [moved] = roost.client.get("/api/v1/timelines/tag/perching").json()
    assert moved["uri"] == f"{peer.uri}/statuses/1"
    assert [t["name"] for t in moved["tags"]] == ["perching"]


def test_given_a_remote_note_with_attachments_then_its_media_show_by_their_remote_addresses(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    _follow_mallory(roost, peer, alice)
    image = f"{peer.base}/media/cat.png"
    attachments = [
        {
            "type": "Document",
            "mediaType": "image/png",
            "url": image,
            "name": "a cat on a roof",
            "blurhash": "UBL_:rOpGG-oBUNG,qRj2so|=eE1w^n4S5NH",
            "width": 640,
            "height": 480,
            "focalPoint": [0.5, -0.25],
        },
        {"type": "Video", "mediaType": "video/mp4", "url": [{"href": f"{peer.base}/m.mp4"}]},
        {"type": "Document", "mediaType": "image/png", "url": "javascript:alert(1)"},
        {"type": "Link", "href": f"{peer.base}/elsewhere"},
    ]
    peer.send(roost, _note(peer, 1, to=[PUBLIC], attachment=attachments))

    [post] = roost.client.get("/api/v1/timelines/public", params={"only_media": "true"}).json()
    first, second = post["media_attachments"]
    assert first["type"] == "image"
    assert first["url"] == first["remote_url"] == first["preview_url"] == image
    assert first["description"] == "a cat on a roof"
    assert first["blurhash"] == attachments[0]["blurhash"]
    assert first["meta"]["original"] == {
        "width": 640,
        "height": 480,
        "size": "640x480",
        "aspect": 640 / 480,
    }
    assert first["meta"]["focus"] == {"x": 0.5, "y": -0.25}
    assert second["type"] == "video" and second["url"] == f"{peer.base}/m.mp4"
    assert second["description"] is None
    assert alice.get(f"/api/v1/statuses/{post['id']}").json()["media_attachments"] == [
        first,
        second,
    ]
    # Nothing was fetched, so nothing is served from here.
    assert roost.client.get(f"/media/{first['id']}/original/cat.png").status_code == 404

    # Deleted with its post.
    peer.send(
        roost,
        {
            "id": f"{peer.uri}/statuses/1#delete",
            "type": "Delete",
            "actor": peer.uri,
            "object": {"id": f"{peer.uri}/statuses/1", "type": "Tombstone"},
        },
    )
    assert roost.client.get("/api/v1/timelines/public", params={"only_media": "true"}).json() == []
    assert _media_count(roost) == 0


def _media_count(roost: Roost) -> int:
    from sqlalchemy import func, select

    from roost.db.tables import media_attachments

    async def read() -> int:
        async with roost.db.read() as conn:
            return int(
                (await conn.execute(select(func.count()).select_from(media_attachments))).scalar()
                or 0
            )

    return roost.run(read)


def _question(peer: Peer, counts: tuple[int, int], voters: int, **fields: Any) -> dict[str, Any]:
    activity = _note(
        peer,
        1,
        type="Question",
        to=[PUBLIC],
        endTime="2099-01-01T00:00:00Z",
        votersCount=voters,
        oneOf=[
            {"type": "Note", "name": name, "replies": {"type": "Collection", "totalItems": n}}
            for name, n in zip(("tea", "coffee"), counts, strict=True)
        ],
        **fields,
    )
    return activity


def test_given_a_remote_question_then_its_poll_shows_and_an_update_refreshes_its_counts(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    _follow_mallory(roost, peer, alice)
    peer.send(roost, _question(peer, (3, 1), 4))

    [post] = alice.get("/api/v1/timelines/home").json()
    poll = post["poll"]
    assert [(o["title"], o["votes_count"]) for o in poll["options"]] == [("tea", 3), ("coffee", 1)]
    # Voters are shown for multiple-choice polls only, as Mastodon does.
    assert poll["votes_count"] == 4 and poll["voters_count"] is None
    assert poll["multiple"] is False and poll["expired"] is False
    assert poll["expires_at"].startswith("2099-01-01T00:00:00")
    assert poll["voted"] is False and poll["own_votes"] == []
    assert alice.get(f"/api/v1/polls/{poll['id']}").json() == poll
    assert roost.client.get(f"/api/v1/polls/{poll['id']}").json()["votes_count"] == 4

    # The author's server counts more votes and says so with an Update.
    update = _question(peer, (5, 2), 7)
    peer.send(roost, {**update, "type": "Update", "id": f"{peer.uri}/statuses/1#u1"})
    refreshed = alice.get(f"/api/v1/polls/{poll['id']}").json()
    assert [o["votes_count"] for o in refreshed["options"]] == [5, 2]
    assert refreshed["votes_count"] == 7
    assert alice.get(f"/api/v1/statuses/{post['id']}").json()["poll"] == refreshed

    # alice votes: counted here at once, and sent to mallory as a Note named "coffee".
    voted = alice.post(f"/api/v1/polls/{poll['id']}/votes", data={"choices[]": ["1"]})
    assert voted.status_code == 200, voted.text
    assert [o["votes_count"] for o in voted.json()["options"]] == [5, 3]
    assert voted.json()["voted"] is True and voted.json()["own_votes"] == [1]
    roost.drain_jobs()
    [vote] = [c for c in peer.sent_of("Create") if c["object"].get("name")]
    alice_uri = f"{roost.settings.base_url}/users/alice"
    assert vote["actor"] == alice_uri and vote["to"] == [peer.uri]
    assert {k: vote["object"][k] for k in ("type", "name", "attributedTo", "inReplyTo", "to")} == {
        "type": "Note",
        "name": "coffee",
        "attributedTo": alice_uri,
        "inReplyTo": f"{peer.uri}/statuses/1",
        "to": [peer.uri],
    }

    # A multiple-choice one, closed, without votersCount: its voters are not known (0).
    closed = _note(
        peer,
        2,
        type="Question",
        to=[PUBLIC],
        closed="2026-01-01T00:00:00Z",
        anyOf=[{"type": "Note", "name": n, "replies": {"totalItems": 2}} for n in ("a", "b")],
    )
    peer.send(roost, closed)
    found = {p["uri"]: p for p in alice.get("/api/v1/timelines/home").json()}
    other = found[f"{peer.uri}/statuses/2"]["poll"]
    assert other["multiple"] is True and other["expired"] is True
    assert other["votes_count"] == 4 and other["voters_count"] == 0


def test_given_a_remote_note_mentioning_a_third_servers_account_known_here_then_it_is_a_mention(
    roost: Roost, peer: Peer
) -> None:
    from roost.domain.federation.remote import store_actor

    alice = roost.account("alice")
    _follow_mallory(roost, peer, alice)
    carol_uri = "https://third.example/users/carol"
    carol = {
        "id": carol_uri,
        "type": "Person",
        "preferredUsername": "carol",
        "inbox": f"{carol_uri}/inbox",
        "publicKey": {"id": f"{carol_uri}#main-key", "owner": carol_uri, "publicKeyPem": ""},
    }
    carol_id = roost.run(lambda: store_actor(roost.db, carol))
    unknown = "https://fourth.example/users/dave"
    tags = [
        {"type": "Mention", "href": carol_uri, "name": "@carol@third.example"},
        {"type": "Mention", "href": unknown, "name": "@dave@fourth.example"},
    ]

    peer.send(roost, _note(peer, 1, to=[PUBLIC], cc=[carol_uri, unknown], tag=tags))

    [post] = alice.get("/api/v1/timelines/home").json()
    assert [(m["id"], m["acct"], m["url"]) for m in post["mentions"]] == [
        (str(carol_id), "carol@third.example", carol_uri)
    ]
    # A note that names nobody here but a third server's account is still for nobody here.
    alice.post(f"/api/v1/accounts/{post['account']['id']}/unfollow")
    roost.drain_jobs()
    peer.send(roost, _note(peer, 2, to=[carol_uri], tag=tags[:1]))
    assert roost.client.get("/api/v1/timelines/public").json()[0]["uri"] == post["uri"]
    assert _post_count(roost) == 1


def _post_count(roost: Roost) -> int:
    from sqlalchemy import func, select

    from roost.db.tables import statuses

    async def read() -> int:
        async with roost.db.read() as conn:
            query = select(func.count()).select_from(statuses).where(statuses.c.uri.is_not(None))
            return int((await conn.execute(query)).scalar() or 0)

    return roost.run(read)


def _picture_note(peer: Peer, n: int, path: str) -> dict[str, Any]:
    attachment = {"type": "Document", "mediaType": "image/png", "url": f"{peer.base}{path}"}
    return _note(peer, n, to=[PUBLIC], attachment=[attachment])


def test_given_a_remote_picture_when_fetched_then_it_is_served_from_here_unless_it_is_listed(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    _follow_mallory(roost, peer, alice)
    listed = pictures.png(17)
    import_list(roost, "hotline", pictures.pdq_hex(listed))
    peer.files["/media/ok.png"] = pictures.png(3)
    peer.files["/media/listed.png"] = listed

    peer.send(roost, _picture_note(peer, 1, "/media/ok.png"))
    peer.send(roost, _picture_note(peer, 2, "/media/listed.png"))

    posts = {p["uri"]: p for p in alice.get("/api/v1/timelines/home").json()}
    [kept] = posts[f"{peer.uri}/statuses/1"]["media_attachments"]
    base = roost.settings.base_url
    assert kept["url"].startswith(f"{base}/media/{kept['id']}/original/")
    assert kept["preview_url"].startswith(f"{base}/media/{kept['id']}/small/")
    assert kept["remote_url"] == f"{peer.base}/media/ok.png"
    assert kept["meta"]["original"]["width"] == 640 and kept["blurhash"]
    served = roost.client.get(kept["url"].removeprefix(base))
    assert served.status_code == 200 and served.content.startswith(b"\x89PNG")
    # The listed one: quarantined when fetched, and shown by no address.
    assert posts[f"{peer.uri}/statuses/2"]["media_attachments"] == []
    [row] = quarantine_rows(roost)
    assert row.origin == "remote" and row.account_id is None


def test_given_mallorys_server_media_rejected_then_her_pictures_are_not_fetched(
    roost: Roost, peer: Peer
) -> None:
    from roost.domain.blocks.domains import BlockChange, do_block_domain

    alice = roost.account("alice")
    _follow_mallory(roost, peer, alice)

    async def reject_media() -> None:
        async with roost.db.write() as tx:
            await do_block_domain(tx, "127.0.0.1", BlockChange(severity="noop", reject_media=True))

    roost.run(reject_media)
    peer.files["/media/ok.png"] = pictures.png(3)
    peer.send(roost, _picture_note(peer, 1, "/media/ok.png"))

    [post] = alice.get("/api/v1/timelines/home").json()
    [media] = post["media_attachments"]
    assert media["url"] == media["remote_url"] == f"{peer.base}/media/ok.png"


def test_given_mallorys_fetched_picture_and_poll_when_her_actor_is_deleted_then_both_go(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    _follow_mallory(roost, peer, alice)
    peer.files["/media/ok.png"] = pictures.png(3)
    peer.send(roost, _picture_note(peer, 1, "/media/ok.png"))
    peer.send(roost, _question(peer, (1, 1), 2))
    before = set(stored_files(roost))
    assert _media_count(roost) == 1 and before

    peer.send(
        roost, {"id": f"{peer.uri}#delete", "type": "Delete", "actor": peer.uri, "object": peer.uri}
    )
    roost.drain_jobs()

    assert _media_count(roost) == 0 and _poll_count(roost) == 0
    # Her fetched files are gone from the store too.
    assert stored_files(roost) == []


def _poll_count(roost: Roost) -> int:
    from sqlalchemy import func, select

    from roost.db.tables import polls

    async def read() -> int:
        async with roost.db.read() as conn:
            return int((await conn.execute(select(func.count()).select_from(polls))).scalar() or 0)

    return roost.run(read)


def test_given_alice_follows_mallory_when_she_boosts_an_unknown_question_then_its_poll_shows(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    _follow_mallory(roost, peer, alice)
    question = _question(peer, (2, 5), 7)["object"]
    peer.served["/users/mallory/statuses/1"] = question

    peer.send(
        roost,
        {
            "id": f"{peer.uri}/statuses/9/activity",
            "type": "Announce",
            "actor": peer.uri,
            "to": [PUBLIC],
            "object": question["id"],
        },
    )

    [boost] = [p for p in alice.get("/api/v1/timelines/home").json() if p["reblog"]]
    assert [o["votes_count"] for o in boost["reblog"]["poll"]["options"]] == [2, 5]
