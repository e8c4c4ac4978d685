"""Media in edit history: each version of GET /api/v1/statuses/:id/history
lists the post's media as they were in that version (Mastodon's
StatusEdit.media_attachments), with their alt text of the time; media an edit
takes off the post are kept for the history until the post is deleted."""

from __future__ import annotations

from typing import Any

from roost.domain.media import actions
from roost.media.store import media_store
from tests.conftest import Roost, User
from tests.media import samples


def _upload(user: User, size: int, description: str = "") -> dict[str, Any]:
    response = user.post(
        "/api/v2/media",
        files={"file": (f"p{size}.png", samples.png(size, size), "image/png")},
        data={"description": description} if description else {},
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def _shown(version: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(m["id"], m["description"]) for m in version["media_attachments"]]


def _sweep(roost: Roost) -> int:
    async def sweep() -> int:
        return await actions.sweep_unattached(roost.db, media_store(roost.settings))

    return roost.run(sweep)


def test_given_edits_of_a_posts_media_when_history_read_then_each_version_has_its_own(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    cat = _upload(alice, 30, "a cat")
    dog = _upload(alice, 40, "a dog")
    post = alice.post_status("my pets", media_ids=[cat["id"]])

    alice.put(
        f"/api/v1/statuses/{post['id']}",
        json={
            "status": "my pets",
            "media_ids": [cat["id"], dog["id"]],
            "media_attributes": [{"id": cat["id"], "description": "a black cat"}],
        },
    )
    only_dog = {"status": "the dog", "media_ids": [dog["id"]]}
    alice.put(f"/api/v1/statuses/{post['id']}", json=only_dog)
    history = bob.get(f"/api/v1/statuses/{post['id']}/history").json()

    assert [_shown(v) for v in history] == [
        [(cat["id"], "a cat")],
        [(cat["id"], "a black cat"), (dog["id"], "a dog")],
        [(dog["id"], "a dog")],
    ]
    assert _shown(bob.get(f"/api/v1/statuses/{post['id']}").json()) == [(dog["id"], "a dog")]
    old_picture = history[0]["media_attachments"][0]["url"]
    assert roost.client.get(old_picture).status_code == 200


def test_given_media_taken_off_by_an_edit_then_kept_past_the_sweep_and_not_reusable(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    cat = _upload(alice, 30)
    post = alice.post_status("a picture", media_ids=[cat["id"]])
    alice.put(f"/api/v1/statuses/{post['id']}", json={"status": "no picture now", "media_ids": []})

    swept = _sweep(roost)
    reused = alice.post("/api/v1/statuses", json={"status": "again", "media_ids": [cat["id"]]})
    deleted = alice.delete(f"/api/v1/media/{cat['id']}")

    assert swept == 0
    assert reused.status_code == 422 and "not yours to attach" in reused.json()["error"]
    assert deleted.status_code == 404
    history = alice.get(f"/api/v1/statuses/{post['id']}/history").json()
    assert [len(v["media_attachments"]) for v in history] == [1, 0]
    assert roost.client.get(history[0]["media_attachments"][0]["url"]).status_code == 200


def test_given_media_taken_off_then_put_back_when_history_read_then_all_three_versions(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    cat = _upload(alice, 30)
    post = alice.post_status("a picture", media_ids=[cat["id"]])
    path = f"/api/v1/statuses/{post['id']}"
    alice.put(path, json={"status": "none", "media_ids": []})

    back = alice.put(path, json={"status": "back", "media_ids": [cat["id"]]})

    assert back.status_code == 200, back.text
    history = alice.get(f"{path}/history").json()
    assert [[m["id"] for m in v["media_attachments"]] for v in history] == [
        [cat["id"]],
        [],
        [cat["id"]],
    ]


def test_given_a_deleted_post_then_media_kept_for_its_history_go_with_the_sweep(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    cat = _upload(alice, 30)
    post = alice.post_status("a picture", media_ids=[cat["id"]])
    alice.put(f"/api/v1/statuses/{post['id']}", json={"status": "none", "media_ids": []})
    history = alice.get(f"/api/v1/statuses/{post['id']}/history").json()
    picture = history[0]["media_attachments"][0]["url"]

    alice.delete(f"/api/v1/statuses/{post['id']}", params={"delete_media": "true"})

    assert alice.get(f"/api/v1/media/{cat['id']}").status_code == 404
    roost.drain_jobs()
    assert roost.client.get(picture).status_code == 404


def test_given_a_followers_only_post_with_edited_media_then_a_stranger_sees_no_history(
    roost: Roost,
) -> None:
    alice, bob, eve = roost.account("alice"), roost.account("bob"), roost.account("eve")
    bob.follow(alice)
    cat = _upload(alice, 30)
    post = alice.post_status("for friends", visibility="private", media_ids=[cat["id"]])
    alice.put(f"/api/v1/statuses/{post['id']}", json={"status": "none", "media_ids": []})

    seen = bob.get(f"/api/v1/statuses/{post['id']}/history")
    hidden = eve.get(f"/api/v1/statuses/{post['id']}/history")

    assert seen.status_code == 200 and len(seen.json()[0]["media_attachments"]) == 1
    assert hidden.status_code == 404
    picture = seen.json()[0]["media_attachments"][0]["url"]
    assert roost.client.get(picture, headers=bob.headers).status_code == 200
    unsigned = picture.split("?", 1)[0]
    assert roost.client.get(unsigned).status_code == 404
