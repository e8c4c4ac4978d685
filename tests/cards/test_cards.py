"""Link preview cards: a post's first link is fetched by a job through the
outbound client, from a real local website (allowed by the setting), into
the post's ``card``; shared per address, refreshed after a day, re-fetched
when an edit changes the link, and never fetched from a private address
without the setting."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import update

from roost.clock import utcnow
from roost.db.tables import preview_cards
from tests.cards.site import Site, opengraph, serving
from tests.conftest import Roost

ALLOWED = pytest.mark.settings(outbound_allow_private=True)


@pytest.fixture
def site() -> Iterator[Site]:
    with serving() as running:
        yield running


@ALLOWED
def test_given_a_post_linking_an_opengraph_page_then_its_card_arrives_after_the_job(
    roost: Roost, site: Site
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    bob.follow(alice)
    site.page(
        "/article",
        opengraph(
            "Herons at dawn",
            description="A long look at &lt;herons&gt;.",
            image="/heron.jpg",
            site_name="Bird News",
            url=site.url + "/article",
            **{"image:width": "640", "image:height": "480", "image:alt": "a grey heron"},
        ),
    )
    post = alice.post_status(f"@bob #birds read {site.url}/article today")
    assert post["card"] is None
    # Read (and cached) before the card arrives, through the timeline and alone.
    assert bob.get("/api/v1/timelines/home").json()[0]["card"] is None
    assert bob.get(f"/api/v1/statuses/{post['id']}").json()["card"] is None
    roost.drain_jobs()
    assert site.hits["/article"] == 1
    assert site.agents[-1].startswith("Roost/")
    card = bob.get("/api/v1/timelines/home").json()[0]["card"]
    assert card is not None, "the cached post still shows no card"
    assert card["title"] == "Herons at dawn"
    assert card["description"] == "A long look at <herons>."
    assert card["type"] == "link" and card["url"] == site.url + "/article"
    # The page's image is not there: the card stands without one.
    assert card["image"] is None and card["blurhash"] is None
    assert (card["width"], card["height"]) == (640, 480)
    assert card["image_description"] == "a grey heron"
    assert card["provider_name"] == "Bird News" and card["language"] == "en"
    assert card["html"] == ""
    assert bob.get(f"/api/v1/statuses/{post['id']}").json()["card"] == card
    assert roost.client.get(f"/api/v1/statuses/{post['id']}/card").json() == card
    public = roost.client.get("/api/v1/timelines/public").json()
    assert public[0]["card"] == card


@ALLOWED
def test_oembed_gives_a_rich_card_whose_html_is_only_an_https_iframe(
    roost: Roost, site: Site
) -> None:
    alice = roost.account("alice")
    site.page(
        "/clip",
        "<html><head><title>A clip</title>"
        '<link rel="alternate" type="application/json+oembed" href="/oembed.json">'
        "</head><body></body></html>",
    )
    site.page(
        "/oembed.json",
        '{"type": "video", "title": "Heron fishing", "author_name": "Ann",'
        ' "author_url": "https://video.example/ann", "provider_name": "Video Example",'
        ' "provider_url": "https://video.example/", "width": 560, "height": 315,'
        ' "thumbnail_url": "https://video.example/t.jpg",'
        ' "html": "<iframe src=\\"https://video.example/embed/1\\" width=\\"560\\"'
        ' onload=\\"steal()\\"></iframe><script>steal()</script>"}',
        kind="application/json",
    )
    post = alice.post_status(f"watch {site.url}/clip")
    roost.drain_jobs()
    card = alice.get(f"/api/v1/statuses/{post['id']}").json()["card"]
    assert card["type"] == "video" and card["title"] == "Heron fishing"
    assert card["html"] == '<iframe src="https://video.example/embed/1" width="560"></iframe>'
    assert (card["width"], card["height"]) == (560, 315)
    assert card["author_name"] == "Ann" and card["provider_url"] == "https://video.example/"
    assert card["authors"] == [{"name": "Ann", "url": "https://video.example/ann", "account": None}]
    assert card["image"] is None  # video.example is not reachable from here
    # An embed that is not an https iframe is dropped, and the card stays a link.
    site.page(
        "/oembed.json",
        '{"type": "rich", "title": "Scripted", "html": "<script>steal()</script>"}',
        kind="application/json",
    )
    site.page("/clip2", site.pages["/clip"][2].decode())
    other = alice.post_status(f"and {site.url}/clip2")
    roost.drain_jobs()
    card = alice.get(f"/api/v1/statuses/{other['id']}").json()["card"]
    assert card["type"] == "link" and card["html"] == "" and card["title"] == "Scripted"


@pytest.mark.settings(outbound_allow_private=True, outbound_timeout_s=3.0)
def test_redirects_are_followed_but_oversize_slow_and_titleless_pages_give_no_card(
    roost: Roost, site: Site
) -> None:
    # Far apart, so that a busy machine cannot make a fast page slow.
    site.slow_s = 8.0
    alice = roost.account("alice")
    site.redirect("/short", "/long")
    site.page("/long", opengraph("Arrived"))
    site.page("/big", opengraph("Big") + "<p>" + "x" * (1 << 20) + "</p>")
    site.page("/slow", opengraph("Slow"))
    site.page("/bare", "<html><head></head><body>no title</body></html>")
    site.page("/json", '{"title": "not html"}', kind="application/json")
    site.redirect("/loop", "/loop")
    posts = {
        path: alice.post_status(f"see {site.url}{path}")["id"]
        for path in ("/short", "/big", "/slow", "/bare", "/json", "/loop")
    }
    roost.drain_jobs()

    def card(path: str) -> object:
        return alice.get(f"/api/v1/statuses/{posts[path]}").json()["card"]

    assert card("/short")["url"] == site.url + "/long"  # type: ignore[index]
    for path in ("/big", "/slow", "/bare", "/json", "/loop"):
        assert card(path) is None, path
    assert site.hits["/loop"] == 6  # the first request and five redirects, then refused


@ALLOWED
def test_a_card_is_shared_per_address_and_refreshed_only_after_a_day(
    roost: Roost, site: Site
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    site.page("/a", opengraph("First title"))
    first = alice.post_status(f"{site.url}/a")
    roost.drain_jobs()
    site.page("/a", opengraph("Second title"))
    second = bob.post_status(f"me too {site.url}/a")
    roost.drain_jobs()
    assert site.hits["/a"] == 1
    assert bob.get(f"/api/v1/statuses/{second['id']}").json()["card"]["title"] == "First title"

    async def age() -> None:
        async with roost.db.write() as tx:
            await tx.execute(
                update(preview_cards).values(fetched_at=utcnow() - timedelta(hours=25))
            )

    roost.run(age)
    third = bob.post_status(f"again {site.url}/a")
    roost.drain_jobs()
    assert site.hits["/a"] == 2
    # The refreshed card shows on every post linking it, the first one too
    # (which the timeline had cached).
    for post in (first, second, third):
        shown = alice.get(f"/api/v1/statuses/{post['id']}").json()["card"]
        assert shown["title"] == "Second title", post["id"]
    home = alice.get("/api/v1/timelines/home").json()
    assert [p["card"]["title"] for p in home] == ["Second title"]


@ALLOWED
def test_an_edit_that_changes_the_link_fetches_again_and_one_that_drops_it_drops_the_card(
    roost: Roost, site: Site
) -> None:
    alice = roost.account("alice")
    site.page("/one", opengraph("One"))
    site.page("/two", opengraph("Two"))
    post = alice.post_status(f"{site.url}/one")
    roost.drain_jobs()
    edit = alice.put(f"/api/v1/statuses/{post['id']}", json={"status": f"{site.url}/two"})
    assert edit.status_code == 200
    roost.drain_jobs()
    assert alice.get(f"/api/v1/statuses/{post['id']}").json()["card"]["title"] == "Two"
    same = alice.put(f"/api/v1/statuses/{post['id']}", json={"status": f"still {site.url}/two"})
    assert same.status_code == 200
    roost.drain_jobs()
    assert site.hits["/two"] == 1
    alice.put(f"/api/v1/statuses/{post['id']}", json={"status": "no link now"})
    roost.drain_jobs()
    assert alice.get(f"/api/v1/statuses/{post['id']}").json()["card"] is None
    assert alice.get(f"/api/v1/statuses/{post['id']}/card").json() == {}


@ALLOWED
def test_mentions_hashtags_own_links_and_direct_posts_get_no_card(roost: Roost, site: Site) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    base = roost.settings.base_url
    site.page("/secret", opengraph("Secret"))
    plain = alice.post_status(f"@bob #herons {base}/@bob")
    direct = alice.post_status(f"@bob {site.url}/secret", visibility="direct")
    private = alice.post_status(f"{site.url}/secret", visibility="private")
    roost.drain_jobs()
    assert alice.get(f"/api/v1/statuses/{plain['id']}").json()["card"] is None
    assert bob.get(f"/api/v1/statuses/{direct['id']}").json()["card"] is None
    assert site.hits["/secret"] == 1  # for the followers-only post only
    # Its card is shown only to those who may see the post.
    assert bob.get(f"/api/v1/statuses/{private['id']}/card").status_code == 404
    assert alice.get(f"/api/v1/statuses/{private['id']}/card").json()["title"] == "Secret"


def test_given_the_default_settings_then_a_link_to_a_private_address_is_not_fetched(
    roost: Roost, site: Site
) -> None:
    alice = roost.account("alice")
    site.page("/inside", opengraph("Inside"))
    post = alice.post_status(f"{site.url}/inside")
    roost.drain_jobs()
    assert site.hits["/inside"] == 0
    assert alice.get(f"/api/v1/statuses/{post['id']}").json()["card"] is None


@ALLOWED
def test_given_an_erased_account_then_cards_only_its_posts_showed_go_and_others_stay(
    roost: Roost, site: Site
) -> None:
    from roost.erasure.erase import erase_account

    alice, bob = roost.account("alice"), roost.account("bob")
    site.page("/alice-only-page", opengraph("Alice's find"))
    site.page("/shared", opengraph("Everyone's"))
    alice.post_status(f"{site.url}/alice-only-page")  # the whole text is the address
    alice.post_status(f"look: {site.url}/shared")
    shared = bob.post_status(f"me too {site.url}/shared")
    roost.drain_jobs()
    services = roost.client.app.state.services  # type: ignore[attr-defined]
    receipt = roost.run(lambda: erase_account(services, int(alice.id)))
    assert receipt.hits == {} or not any(receipt.hits.values()), receipt.hits
    assert receipt.tables["preview_cards"] == 1
    assert bob.get(f"/api/v1/statuses/{shared['id']}").json()["card"]["title"] == "Everyone's"


@pytest.mark.settings(outbound_allowed_networks="127.0.0.2/32")
def test_a_page_on_an_allowed_host_cannot_send_the_fetch_to_a_private_address(
    roost: Roost, site: Site
) -> None:
    """The site on 127.0.0.2 stands for the public web; the one on 127.0.0.1
    for an internal service. A redirect there gives no card, and an oEmbed
    address there is not fetched (the page's own tags still make the card)."""
    alice = roost.account("alice")
    site.page("/internal", opengraph("Internal admin panel"))
    site.page("/internal-oembed", '{"type": "rich", "title": "leaked"}', kind="application/json")
    with serving("127.0.0.2") as public:
        public.redirect("/hop", site.url + "/internal")
        public.page(
            "/embeds",
            "<html><head><title>Public page</title>"
            '<link rel="alternate" type="application/json+oembed"'
            f' href="{site.url}/internal-oembed"></head></html>',
        )
        hop = alice.post_status(f"{public.url}/hop")
        embeds = alice.post_status(f"{public.url}/embeds")
        roost.drain_jobs()
    assert alice.get(f"/api/v1/statuses/{hop['id']}").json()["card"] is None
    card = alice.get(f"/api/v1/statuses/{embeds['id']}").json()["card"]
    assert card["title"] == "Public page"
    assert site.hits["/internal"] == 0 and site.hits["/internal-oembed"] == 0
    assert public.hits["/hop"] == 1


@ALLOWED
def test_two_posts_linking_a_new_address_at_once_share_one_card(roost: Roost, site: Site) -> None:
    import asyncio
    import threading

    from sqlalchemy import func, select

    from roost.domain.cards.handlers import fetch_link_card
    from roost.domain.cards.jobs import FetchLinkCard

    alice, bob = roost.account("alice"), roost.account("bob")
    site.page("/news", opengraph("Breaking"))
    # Neither fetch is answered until both have asked: under a loaded machine
    # one job could otherwise finish before the other read, and the race this
    # test is about would not happen.
    site.together["/news"] = threading.Barrier(2)
    first = alice.post_status(f"{site.url}/news")
    second = bob.post_status(f"{site.url}/news")
    services = roost.client.app.state.services  # type: ignore[attr-defined]

    async def both() -> int:
        ctx = services.job_context()
        await asyncio.gather(
            fetch_link_card(ctx, FetchLinkCard(int(first["id"]))),
            fetch_link_card(ctx, FetchLinkCard(int(second["id"]))),
        )
        async with roost.db.read() as conn:
            return int(
                (await conn.execute(select(func.count()).select_from(preview_cards))).scalar_one()
            )

    assert roost.run(both) == 1
    assert site.hits["/news"] == 2  # both fetched: neither knew of the other
    for post in (first, second):
        assert alice.get(f"/api/v1/statuses/{post['id']}").json()["card"]["title"] == "Breaking"
