"""Announcements and custom emoji, as apps see them."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from PIL import Image

from roost.domain.announcements.actions import NewAnnouncement, do_add_announcement
from roost.domain.emojis.actions import do_add_emoji
from tests.conftest import Roost


def png(size: int = 16, colour: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (size, size), colour).save(out, "PNG")
    return out.getvalue()


def _announce(roost: Roost, new: NewAnnouncement) -> str:
    async def add() -> int:
        async with roost.db.write() as tx:
            return await do_add_announcement(tx, new, base_url=roost.settings.base_url)

    return str(roost.run(add))


def _emoji(roost: Roost, shortcode: str, data: bytes) -> None:
    async def add() -> None:
        async with roost.db.write() as tx:
            await do_add_emoji(tx, roost.settings.data_dir, shortcode, data, category="Blobs")

    roost.run(add)


def test_given_announcements_then_only_running_ones_and_each_readers_state(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    now = datetime.now(UTC)
    running = _announce(roost, NewAnnouncement("Maintenance tonight, see https://example.org"))
    _announce(roost, NewAnnouncement("Old news", ends_at=now - timedelta(days=1)))
    _announce(roost, NewAnnouncement("Future", starts_at=now + timedelta(days=1)))
    (shown,) = alice.get("/api/v1/announcements").json()
    assert shown["id"] == running and shown["read"] is False
    assert 'href="https://example.org"' in shown["content"]
    assert alice.post(f"/api/v1/announcements/{running}/dismiss").json() == {}
    assert alice.get("/api/v1/announcements").json()[0]["read"] is True
    assert alice.get("/api/v1/announcements", params={"with_dismissed": "false"}).json() == []
    assert bob.get("/api/v1/announcements").json()[0]["read"] is False
    assert alice.post("/api/v1/announcements/123/dismiss").status_code == 404
    assert roost.client.get("/api/v1/announcements").status_code == 401


def test_given_reactions_then_counted_once_per_person_and_checked(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    _emoji(roost, "blobcat", png())
    running = _announce(roost, NewAnnouncement("Hello"))
    path = f"/api/v1/announcements/{running}/reactions"
    for user in (alice, bob, alice):
        assert user.put(f"{path}/🎉").status_code == 200
    assert alice.put(f"{path}/blobcat").status_code == 200
    assert alice.put(f"{path}/notanemoji").status_code == 422
    assert alice.put(f"{path}/%00").status_code == 422
    assert alice.delete(f"{path}/%00").status_code == 200
    reactions = alice.get("/api/v1/announcements").json()[0]["reactions"]
    assert [(r["name"], r["count"], r["me"]) for r in reactions] == [
        ("🎉", 2, True),
        ("blobcat", 1, True),
    ]
    assert reactions[1]["url"].endswith(".png")
    assert alice.delete(f"{path}/🎉").status_code == 200
    again = bob.get("/api/v1/announcements").json()[0]["reactions"]
    assert [(r["name"], r["count"], r["me"]) for r in again] == [
        ("🎉", 1, True),
        ("blobcat", 1, False),
    ]


def test_given_a_custom_emoji_then_listed_and_its_image_served(roost: Roost) -> None:
    data = png(32, "blue")
    _emoji(roost, "blobwave", data)
    (listed,) = roost.client.get("/api/v1/custom_emojis").json()
    assert listed["shortcode"] == "blobwave" and listed["category"] == "Blobs"
    assert listed["visible_in_picker"] is True
    path = listed["url"].replace(roost.settings.base_url, "")
    image = roost.client.get(path)
    assert image.status_code == 200 and image.content == data
    assert image.headers["content-type"] == "image/png"
    assert roost.client.get("/emoji/../secret_key").status_code == 404
    assert roost.client.get("/emoji/0123456789abcdef0123456789abcdef.png").status_code == 404
