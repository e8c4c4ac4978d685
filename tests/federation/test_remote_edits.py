"""An edit of another server's post (Update of its Note) refreshes what the
Create brought besides its text: its mentions (the newly mentioned told once,
the others no longer reached by a direct post) and its media (added ones
fetched and screened, removed ones kept for the history, alt text changed);
and accounts of a third server a note names are looked up by a job. The
other server is the plain HTTP server of tests/federation/peers.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Roost, User
from tests.federation.peers import PUBLIC, Peer, serve
from tests.federation.test_received import _follow_mallory, _note, peer
from tests.known_images import pictures
from tests.known_images.support import import_list, quarantine_rows

pytestmark = pytest.mark.settings(federation_allow_insecure=True)
__all__ = ["peer"]


def _update(activity: dict[str, Any], n: int, **fields: Any) -> dict[str, Any]:
    """The Update of the note of ``activity`` (a Create), changed by ``fields``."""
    note = {**activity["object"], "updated": f"2026-01-0{n + 2}T00:00:00Z", **fields}
    return {**activity, "type": "Update", "id": f"{note['id']}#updates/{n}", "object": note}


def _mention(roost: Roost, name: str) -> dict[str, Any]:
    host = roost.settings.base_url.split("://", 1)[1]
    return {"type": "Mention", "href": _actor(roost, name), "name": f"@{name}@{host}"}


def _actor(roost: Roost, name: str) -> str:
    return f"{roost.settings.base_url}/users/{name}"


def _mentions_of(user: User, post_id: str) -> list[str]:
    return [m["username"] for m in user.get(f"/api/v1/statuses/{post_id}").json()["mentions"]]


def _told(user: User) -> list[tuple[str, str]]:
    found = user.get("/api/v1/notifications").json()
    return [(n["type"], n["status"]["content"]) for n in found if n.get("status")]


def _mentions_told(user: User) -> int:
    """The mention notifications recorded for ``user``, filtered ones too
    (a direct post from someone one does not follow is filtered)."""
    from sqlalchemy import func, select

    from roost.db.tables import notifications

    async def read() -> int:
        async with user.roost.db.read() as conn:
            query = select(func.count()).where(
                notifications.c.account_id == int(user.id), notifications.c.type == "mention"
            )
            return int((await conn.execute(query)).scalar() or 0)

    return user.roost.run(read)


def test_given_mallorys_post_naming_bob_when_she_names_carol_instead_then_carol_is_told_once(
    roost: Roost, peer: Peer
) -> None:
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    _follow_mallory(roost, peer, alice)
    created = _note(peer, 1, to=[PUBLIC], cc=[_actor(roost, "bob")], tag=[_mention(roost, "bob")])
    peer.send(roost, created)
    [post] = alice.get("/api/v1/timelines/home").json()
    assert _mentions_of(alice, post["id"]) == ["bob"]
    assert _told(bob) == [("mention", "<p>note 1</p>")]

    tags = [_mention(roost, "carol")]
    cc = [_actor(roost, "carol")]
    peer.send(roost, _update(created, 1, content="<p>for carol</p>", cc=cc, tag=tags))

    assert _mentions_of(alice, post["id"]) == ["carol"]
    assert _told(carol) == [("mention", "<p>for carol</p>")]
    # bob is no longer named; what he was told stays, as on Mastodon.
    assert _told(bob) == [("mention", "<p>for carol</p>")]
    history = alice.get(f"/api/v1/statuses/{post['id']}/history").json()
    assert [h["content"] for h in history] == ["<p>note 1</p>", "<p>for carol</p>"]

    # Another edit that still names her tells her nothing more.
    peer.send(roost, _update(created, 2, content="<p>for carol, again</p>", cc=cc, tag=tags))
    assert len(_told(carol)) == 1
    assert len(alice.get(f"/api/v1/statuses/{post['id']}/history").json()) == 3


def test_given_a_direct_post_to_bob_when_mallory_writes_to_carol_instead_then_only_carol_reads_it(
    roost: Roost, peer: Peer
) -> None:
    bob, carol = roost.account("bob"), roost.account("carol")
    created = _note(peer, 1, to=[_actor(roost, "bob")], cc=[], tag=[_mention(roost, "bob")])
    peer.send(roost, created)
    [conversation] = bob.get("/api/v1/conversations").json()
    post_id = conversation["last_status"]["id"]
    assert conversation["last_status"]["visibility"] == "direct"
    assert carol.get(f"/api/v1/statuses/{post_id}").status_code == 404
    assert _mentions_told(bob) == 1 and _mentions_told(carol) == 0

    peer.send(
        roost,
        _update(
            created,
            1,
            content="<p>carol only</p>",
            to=[_actor(roost, "carol")],
            tag=[_mention(roost, "carol")],
        ),
    )

    assert bob.get(f"/api/v1/statuses/{post_id}").status_code == 404
    assert bob.get("/api/v1/conversations").json() == []
    shown = carol.get(f"/api/v1/statuses/{post_id}").json()
    assert shown["content"] == "<p>carol only</p>" and shown["visibility"] == "direct"
    assert [c["last_status"]["id"] for c in carol.get("/api/v1/conversations").json()] == [post_id]
    assert _mentions_told(carol) == 1 and _mentions_told(bob) == 1


def test_given_mallorys_post_with_pictures_when_she_edits_them_then_the_post_shows_the_new_set(
    roost: Roost, peer: Peer
) -> None:
    alice = roost.account("alice")
    _follow_mallory(roost, peer, alice)
    listed = pictures.png(17)
    import_list(roost, "hotline", pictures.pdq_hex(listed))
    for name, seed in (("a", 3), ("b", 5), ("c", 7)):
        peer.files[f"/media/{name}.png"] = pictures.png(seed)
    peer.files["/media/listed.png"] = listed

    def picture(name: str, alt: str | None = None) -> dict[str, Any]:
        return {
            "type": "Document",
            "mediaType": "image/png",
            "url": f"{peer.base}/media/{name}.png",
            **({"name": alt} if alt else {}),
        }

    created = _note(peer, 1, to=[PUBLIC], attachment=[picture("a", "first"), picture("b")])
    peer.send(roost, created)
    [post] = alice.get("/api/v1/timelines/home").json()
    first, second = post["media_attachments"]

    attachment = [picture("c"), picture("a", "a cat"), picture("listed")]
    peer.send(roost, _update(created, 1, attachment=attachment))

    shown = alice.get(f"/api/v1/statuses/{post['id']}").json()["media_attachments"]
    # The new one fetched and served from here; the listed one refused when
    # fetched, so not shown; the kept one keeps its id, with its new alt text.
    assert [m["remote_url"] for m in shown] == [f"{peer.base}/media/c.png", first["remote_url"]]
    assert shown[0]["url"].startswith(f"{roost.settings.base_url}/media/{shown[0]['id']}/")
    assert shown[1]["id"] == first["id"] and shown[1]["description"] == "a cat"
    [row] = quarantine_rows(roost)
    assert row.origin == "remote"
    # The earlier version keeps the picture the edit took off.
    history = alice.get(f"/api/v1/statuses/{post['id']}/history").json()
    assert [[m["id"] for m in h["media_attachments"]] for h in history] == [
        [first["id"], second["id"]],
        [shown[0]["id"], first["id"]],
    ]
    assert [m["description"] for m in history[0]["media_attachments"]] == ["first", None]

    # An Update that changes nothing records no edit.
    peer.send(roost, _update(created, 2, attachment=attachment))
    assert len(alice.get(f"/api/v1/statuses/{post['id']}/history").json()) == 2


@pytest.fixture
def third() -> Iterator[Peer]:
    with serve() as actor:
        yield actor


def test_given_a_note_naming_a_third_servers_unknown_account_then_a_job_looks_it_up_and_links_it(
    roost: Roost, peer: Peer, third: Peer
) -> None:
    alice = roost.account("alice")
    _follow_mallory(roost, peer, alice)
    carol = {"type": "Mention", "href": third.uri, "name": f"@mallory@{third.domain}"}

    peer.send(roost, _note(peer, 1, to=[PUBLIC], cc=[third.uri], tag=[carol]), drain=False)
    assert "/users/mallory" not in third.asked
    roost.drain_jobs()

    [post] = alice.get("/api/v1/timelines/home").json()
    assert [(m["acct"], m["url"]) for m in post["mentions"]] == [
        (f"mallory@{third.domain}", f"{third.base}/@mallory")
    ]
    assert third.asked.count("/users/mallory") == 1
    # An edit naming someone else there has that one looked up too.
    third.keys.setdefault("dave", third.key_of("dave"))
    dave = {"type": "Mention", "href": third.actor_uri("dave"), "name": f"@dave@{third.domain}"}
    peer.send(roost, _update(_note(peer, 1, to=[PUBLIC], tag=[carol]), 1, tag=[dave]))
    post = alice.get(f"/api/v1/statuses/{post['id']}").json()
    assert [m["acct"] for m in post["mentions"]] == [f"dave@{third.domain}"]
