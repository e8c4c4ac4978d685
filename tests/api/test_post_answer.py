"""The answer to POST /api/v1/statuses is the post as GET /api/v1/statuses/:id
shows it to its author right after, field for field, for posts of every kind:
it is made from what the write produced and a few reads of its own
(roost/domain/statuses/written.py), where GET reads the post back whole."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import insert

from roost.clock import utcnow
from roost.db.tables import account_moves
from roost.domain.federation.remote import store_actor
from roost.domain.oauth.actions import do_issue_token, do_register_app
from roost.domain.oauth.scopes import parse as parse_scopes
from tests.conftest import Roost, User
from tests.media import samples


@dataclass
class Scene:
    author: User
    friend: User
    parent_id: str
    quoted_id: str
    media_ids: list[str]


def _app_user(roost: Roost, user: User) -> User:
    """``user`` posting through an application (shown to them on their posts)."""

    async def issue() -> str:
        async with roost.db.write() as tx:
            app = await do_register_app(
                tx, "Roost Test App", "urn:ietf:wg:oauth:2.0:oob", None, "https://app.example"
            )
            issued = await do_issue_token(
                tx, int(user.id), app.id, parse_scopes("read write follow push")
            )
        return issued.token

    return User(roost, user.username, user.id, roost.run(issue))


def _remote(roost: Roost, name: str) -> None:
    uri = f"https://remote.example/users/{name}"
    document = {
        "id": uri,
        "type": "Person",
        "preferredUsername": name,
        "url": f"https://remote.example/@{name}",
        "inbox": f"{uri}/inbox",
        "followers": f"{uri}/followers",
    }

    async def store() -> int:
        return await store_actor(roost.db, document)

    roost.run(store)


def _upload(user: User, size: int, description: str) -> str:
    response = user.post(
        "/api/v2/media",
        files={"file": (f"p{size}.png", samples.png(size, size), "image/png")},
        data={"description": description},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def _scene(roost: Roost) -> Scene:
    author = _app_user(roost, roost.account("author"))
    friend, zed = roost.account("friend"), roost.account("zed")
    zed.follow(author)
    author.follow(friend)
    _remote(roost, "erin")
    # A tag in use already, spelt otherwise than the new post spells it.
    friend.post_status("Tulips #Garden")
    parent = friend.post_status("What grows in April?")
    quoted = friend.post_status("A post worth quoting")
    media = [_upload(author, 30, "a cat on a wall"), _upload(author, 40, "")]
    roost.drain_jobs()
    return Scene(author, friend, parent["id"], quoted["id"], media)


def _filter(user: User) -> None:
    body = {
        "title": "Gardens",
        "context": ["home", "public", "thread"],
        "keywords_attributes": [{"keyword": "garden"}],
    }
    response = user.post("/api/v2/filters", json=body)
    assert response.status_code == 200, response.text


FULL_WIDTH_GARDEN = "\uff47\uff41\uff52\uff44\uff45\uff4e"

CASES: dict[str, Callable[[Scene], dict[str, Any]]] = {
    "plain": lambda s: {"status": "Just words"},
    "a local mention": lambda s: {"status": "Hello @friend"},
    "a remote mention": lambda s: {"status": "Hello @erin@remote.example"},
    "mentions, in another order than their accounts'": lambda s: {
        "status": "@zed, @erin@remote.example and @friend: hello"
    },
    "hashtags, new and known, in any case": lambda s: {
        "status": "#zinnia and #GARDEN, #alpha #garden #" + FULL_WIDTH_GARDEN
    },
    "a reply": lambda s: {"status": "@friend Radishes", "in_reply_to_id": s.parent_id},
    "a quote": lambda s: {"status": "Well said", "quoted_status_id": s.quoted_id},
    "media with alt text": lambda s: {"status": "My cat", "media_ids": s.media_ids},
    "media alone": lambda s: {"status": "", "media_ids": s.media_ids[1:]},
    "a poll": lambda s: {
        "status": "Which?",
        "poll": {"options": ["Peas", "Beans"], "expires_in": 3600, "multiple": True},
    },
    "a content warning": lambda s: {"status": "Spiders", "spoiler_text": "bugs"},
    "sensitive": lambda s: {"status": "Hm", "sensitive": True},
    "public": lambda s: {"status": "To all", "visibility": "public"},
    "unlisted": lambda s: {"status": "Quietly", "visibility": "unlisted"},
    "private": lambda s: {"status": "Followers only", "visibility": "private"},
    "direct": lambda s: {"status": "@friend just you", "visibility": "direct"},
    "private media": lambda s: {
        "status": "For followers",
        "visibility": "private",
        "media_ids": s.media_ids,
    },
    "a language": lambda s: {"status": "Guten Morgen", "language": "de"},
    "a link": lambda s: {"status": "See https://example.org/page for more"},
    "a quote policy": lambda s: {"status": "Mine", "quote_approval_policy": "nobody"},
    "everything at once": lambda s: {
        "status": "@friend @erin@remote.example #garden #newtag https://example.org/x",
        "in_reply_to_id": s.parent_id,
        "spoiler_text": "long",
        "visibility": "unlisted",
        "language": "en",
        "media_ids": s.media_ids,
    },
}


@pytest.mark.parametrize("case", list(CASES))
def test_given_a_post_when_answered_then_the_answer_is_what_get_shows_its_author(
    roost: Roost, case: str
) -> None:
    scene = _scene(roost)

    answered = scene.author.post("/api/v1/statuses", json=CASES[case](scene))

    assert answered.status_code == 200, answered.text
    post = answered.json()
    shown = scene.author.get(f"/api/v1/statuses/{post['id']}")
    assert shown.status_code == 200, shown.text
    assert post == shown.json()
    assert post["application"] == {"name": "Roost Test App", "website": "https://app.example"}


def test_given_a_filter_of_the_authors_matching_their_post_when_answered_then_as_get_shows_it(
    roost: Roost,
) -> None:
    scene = _scene(roost)
    _filter(scene.author)

    answered = scene.author.post_status("A garden at dusk")

    # As GET shows it: nobody is filtered from their own posts, so neither
    # lists the filter (the answer asks for no filters at all).
    shown = scene.author.get(f"/api/v1/statuses/{answered['id']}").json()
    assert answered == shown
    assert answered["filtered"] == []


def test_given_a_post_of_a_kind_when_answered_then_each_part_is_there(roost: Roost) -> None:
    # The table above compares the two answers; this says they are not both
    # empty where the post has something to show.
    scene = _scene(roost)

    post = scene.author.post(
        "/api/v1/statuses", json=CASES["everything at once"](scene) | {"visibility": "public"}
    ).json()

    # Mentions in the order of the accounts' ids, on every engine.
    mentions = post["mentions"]
    assert sorted(m["acct"] for m in mentions) == ["erin@remote.example", "friend"]
    assert [m["id"] for m in mentions] == sorted((m["id"] for m in mentions), key=int)
    assert sorted(t["name"] for t in post["tags"]) == ["garden", "newtag"]
    assert post["media_attachments"][0]["description"] == "a cat on a wall"
    assert len(post["media_attachments"]) == 2
    assert post["in_reply_to_id"] == scene.parent_id
    assert post["spoiler_text"] == "long" and post["sensitive"] is True
    assert post["account"]["statuses_count"] == 1


def test_given_a_moved_account_when_it_posts_then_refused_and_nothing_written(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    media = _upload(alice, 30, "a fox")

    async def move() -> None:
        async with roost.db.write() as tx:
            await tx.execute(
                insert(account_moves).values(
                    account_id=int(alice.id), target_account_id=int(bob.id), created_at=utcnow()
                )
            )

    roost.run(move)

    # The statement that counts the post finds the move: all of it rolls back.
    refused = alice.post(
        "/api/v1/statuses", json={"status": "@bob #brandnewtag", "media_ids": [media]}
    )

    assert refused.status_code == 422, refused.text
    assert "posts no more" in refused.text
    assert alice.get(f"/api/v1/accounts/{alice.id}/statuses").json() == []
    assert alice.get(f"/api/v1/accounts/{alice.id}").json()["statuses_count"] == 0
    assert alice.get("/api/v1/timelines/tag/brandnewtag").json() == []
    assert bob.get("/api/v1/notifications").json() == []
