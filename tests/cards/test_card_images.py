"""A link card's image: fetched once by the card job through the outbound
client, re-encoded without its metadata, kept in the media store and served
by Roost, so apps never load it from the linked site."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from PIL import Image
from sqlalchemy import select

from roost.db.tables import preview_cards
from tests.cards.site import Site, opengraph, serving
from tests.conftest import Roost

ALLOWED = pytest.mark.settings(outbound_allow_private=True)


@pytest.fixture
def site() -> Iterator[Site]:
    with serving() as running:
        yield running


def _jpeg_with_exif(size: tuple[int, int]) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0131] = "firmware-1.2"  # Software
    out = io.BytesIO()
    Image.new("RGB", size, (40, 90, 160)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


@ALLOWED
def test_given_a_page_with_an_image_then_the_card_shows_roosts_copy_and_never_the_sites(
    roost: Roost, site: Site
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    original = _jpeg_with_exif((1200, 900))
    assert b"SecretCam" in original
    site.file("/sky.jpg", original, "image/jpeg")
    site.page("/sky", opengraph("The sky today", image="/sky.jpg"))
    post = alice.post_status(f"look {site.url}/sky")
    roost.drain_jobs()
    card = bob.get(f"/api/v1/statuses/{post['id']}").json()["card"]
    base = roost.settings.base_url
    assert card["image"].startswith(f"{base}/media/cards/")
    assert site.url not in card["image"]
    assert (card["width"], card["height"]) == (640, 480)
    assert isinstance(card["blurhash"], str) and len(card["blurhash"]) >= 6
    served = roost.client.get(card["image"].removeprefix(base))
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert b"SecretCam" not in served.content and b"firmware" not in served.content
    assert Image.open(io.BytesIO(served.content)).size == (640, 480)
    # Read again and again: the site saw one fetch of its image, by Roost.
    for _ in range(3):
        bob.get(f"/api/v1/statuses/{post['id']}")
        roost.client.get(card["image"].removeprefix(base))
    assert site.hits["/sky.jpg"] == 1
    assert site.agents[-1].startswith("Roost/")
    wrong_name = card["image"].removeprefix(base).rsplit("/", 1)[0] + "/other.jpg"
    assert roost.client.get(wrong_name).status_code == 404
    assert roost.client.get("/media/cards/12345/x.jpg").status_code == 404


@ALLOWED
def test_given_an_image_that_is_too_large_or_no_image_then_the_card_has_none(
    roost: Roost, site: Site
) -> None:
    alice = roost.account("alice")
    site.file("/huge.jpg", b"\xff\xd8\xff" + b"\0" * (3 << 20), "image/jpeg")
    site.page("/big", opengraph("Big picture", image="/huge.jpg"))
    site.page("/fake.png", "<html>not an image</html>")
    site.page("/fake", opengraph("Fake picture", image="/fake.png"))
    big = alice.post_status(f"see {site.url}/big")
    fake = alice.post_status(f"see {site.url}/fake")
    roost.drain_jobs()
    for post, title in ((big, "Big picture"), (fake, "Fake picture")):
        card = alice.get(f"/api/v1/statuses/{post['id']}").json()["card"]
        assert card["title"] == title
        assert card["image"] is None and card["blurhash"] is None


@ALLOWED
def test_given_a_refreshed_card_with_a_new_image_then_the_old_file_goes(
    roost: Roost, site: Site
) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from roost.clock import utcnow
    from roost.media.store import media_store

    alice = roost.account("alice")
    site.file("/a.png", _png((255, 0, 0)), "image/png")
    site.page("/news", opengraph("News", image="/a.png"))
    alice.post_status(f"one {site.url}/news")
    roost.drain_jobs()

    async def key() -> str:
        async with roost.db.read() as conn:
            return str((await conn.execute(select(preview_cards.c.image_file))).scalar_one())

    first = roost.run(key)
    store = media_store(roost.settings)
    assert store.path(first) is not None

    async def age() -> None:
        async with roost.db.write() as tx:
            await tx.execute(update(preview_cards).values(fetched_at=utcnow() - timedelta(days=2)))

    roost.run(age)
    site.file("/a.png", _png((0, 255, 0)), "image/png")
    alice.post_status(f"two {site.url}/news")
    roost.drain_jobs()
    second = roost.run(key)
    assert second != first
    assert store.path(second) is not None and store.path(first) is None


def _png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (50, 40), colour).save(out, "PNG")
    return out.getvalue()


@ALLOWED
def test_given_an_erased_account_then_images_of_cards_only_its_posts_showed_go(
    roost: Roost, site: Site
) -> None:
    from roost.erasure.erase import erase_account
    from roost.media.store import media_store

    alice, bob = roost.account("alice"), roost.account("bob")
    site.file("/mine.png", _png((1, 2, 3)), "image/png")
    site.file("/ours.png", _png((4, 5, 6)), "image/png")
    site.page("/mine", opengraph("Alice's find", image="/mine.png"))
    site.page("/ours", opengraph("Everyone's", image="/ours.png"))
    alice.post_status(f"{site.url}/mine")
    alice.post_status(f"look: {site.url}/ours")
    shared = bob.post_status(f"me too {site.url}/ours")
    roost.drain_jobs()

    async def keys() -> dict[str, str]:
        async with roost.db.read() as conn:
            rows = await conn.execute(select(preview_cards.c.title, preview_cards.c.image_file))
            return {r.title: r.image_file for r in rows}

    before = roost.run(keys)
    store = media_store(roost.settings)
    assert all(store.path(k) is not None for k in before.values())
    services = roost.client.app.state.services  # type: ignore[attr-defined]
    roost.run(lambda: erase_account(services, int(alice.id)))
    assert store.path(before["Alice's find"]) is None
    assert store.path(before["Everyone's"]) is not None
    card = bob.get(f"/api/v1/statuses/{shared['id']}").json()["card"]
    base = roost.settings.base_url
    assert roost.client.get(card["image"].removeprefix(base)).status_code == 200
