"""The public pages: every address the API hands out opens as a page, as the
privacy policy lets the viewer see it, with its meta, feeds and oEmbed."""

from __future__ import annotations

import re
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest

from tests.conftest import Roost, User
from tests.media import samples


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _upload(user: User, description: str) -> dict[str, str]:
    response = user.post(
        "/api/v2/media",
        files={"file": ("p.png", samples.png(), "image/png")},
        data={"description": description},
    )
    assert response.status_code == 200, response.text
    data: dict[str, str] = response.json()
    return data


def test_given_posts_when_anonymous_opens_every_url_the_api_returned_then_each_is_a_page(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    media = _upload(alice, "a red square")
    post = alice.post_status("Hello #Roost world", media_ids=[media["id"]])
    reply = bob.post_status("@alice hello back", in_reply_to_id=post["id"])
    roost.drain_jobs()
    urls = [post["url"], reply["url"], post["account"]["url"], post["uri"], post["account"]["uri"]]
    urls += [t["url"] for t in post["tags"]] + [m["url"] for m in reply["mentions"]]
    for url in urls:
        page = roost.client.get(_path(url))
        assert page.status_code == 200, (url, page.status_code)
        assert page.headers["content-type"].startswith("text/html")
    thread = roost.client.get(_path(post["url"])).text
    assert "Hello" in thread and "hello back" in thread
    assert 'alt="a red square"' in thread


def test_given_hidden_posts_when_a_stranger_opens_them_then_the_same_404_page_as_nothing(
    roost: Roost,
) -> None:
    alice = roost.account("alice", locked=True)
    private = alice.post_status("secret followers only", visibility="private")
    direct = alice.post_status("secret direct", visibility="direct")
    public = alice.post_status("an open post")
    nothing = roost.client.get("/@alice/4242424242")
    assert nothing.status_code == 404 and nothing.headers["content-type"].startswith("text/html")
    for hidden in (private, direct):
        page = roost.client.get(_path(hidden["url"]))
        assert page.status_code == 404
        assert page.text == nothing.text
    profile = roost.client.get("/@alice").text
    assert "an open post" in profile, profile
    assert "secret" not in profile, profile[
        profile.find("secret") - 300 : profile.find("secret") + 100
    ]
    assert roost.client.get(f"/@bob/{public['id']}").status_code == 404


def test_given_a_profile_then_tabs_meta_noindex_and_rss(roost: Roost) -> None:
    alice = roost.account("alice")
    alice.post_status("top level post")
    first = alice.post_status("start of thread")
    alice.post_status("a reply to someone", in_reply_to_id=first["id"])
    image = alice.post_status("with a picture", media_ids=[_upload(alice, "pic")["id"]])
    alice.post_status("unlisted one", visibility="unlisted")
    roost.drain_jobs()
    posts = roost.client.get("/@alice").text
    replies = roost.client.get("/@alice/with_replies").text
    media = roost.client.get("/@alice/media").text
    assert "top level post" in posts and "with a picture" in media
    assert "top level post" not in media
    assert "a reply to someone" in replies
    assert re.search(r'<meta name="robots" content="noindex', posts)
    assert 'property="og:title"' in posts and 'name="twitter:card"' in posts
    assert 'type="application/rss+xml" href="http://localhost:8000/@alice.rss"' in posts
    alice.patch("/api/v1/accounts/update_credentials", data={"indexable": "true"})
    assert 'name="robots"' not in roost.client.get("/@alice").text
    feed = roost.client.get("/@alice.rss")
    assert feed.status_code == 200 and "rss" in feed.headers["content-type"]
    items = ElementTree.fromstring(feed.content).findall("./channel/item")
    links = [item.findtext("link") for item in items]
    assert image["url"] in links
    assert not any("unlisted" in (item.findtext("description") or "") for item in items)


def test_given_a_public_post_then_oembed_answers_with_an_iframe_of_its_embed_page(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    post = alice.post_status("embed me")
    hidden = alice.post_status("not me", visibility="private")
    page = roost.client.get(_path(post["url"])).text
    assert 'type="application/json+oembed"' in page
    answer = roost.client.get("/api/oembed", params={"url": post["url"]})
    assert answer.status_code == 200
    data = answer.json()
    assert data["type"] == "rich" and data["author_name"] == "alice"
    assert f"/@alice/{post['id']}/embed" in data["html"]
    embed = roost.client.get(f"/@alice/{post['id']}/embed")
    assert embed.status_code == 200 and "embed me" in embed.text
    assert "frame-ancestors *" in embed.headers["content-security-policy"]
    missing = roost.client.get("/api/oembed", params={"url": hidden["url"]})
    assert missing.status_code == 404 and missing.json() == {"error": "Record not found"}


def test_given_a_tag_then_its_page_and_feed_show_public_posts_only(roost: Roost) -> None:
    alice = roost.account("alice")
    alice.post_status("one #Birds post")
    alice.post_status("hidden #birds post", visibility="private")
    roost.drain_jobs()
    page = roost.client.get("/tags/birds")
    assert page.status_code == 200 and "one" in page.text and "hidden" not in page.text
    feed = roost.client.get("/tags/birds.rss")
    assert feed.status_code == 200 and "one" in feed.text and "hidden" not in feed.text


def test_every_page_carries_a_strict_csp_and_api_routes_keep_json_errors(roost: Roost) -> None:
    page = roost.client.get("/about")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "style-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "<script>" not in page.text and "style=" not in page.text
    assert roost.client.get("/no/such/page").headers["content-type"].startswith("text/html")
    api = roost.client.get("/api/v1/no-such-method")
    assert api.status_code == 404 and api.json() == {"error": "Not Found"}


def test_static_files_are_cached_for_a_year_under_their_hash(roost: Roost) -> None:
    page = roost.client.get("/about").text
    css = re.search(r'href="(/static/roost\.css\?v=[0-9a-f]+)"', page)
    assert css is not None
    fresh = roost.client.get(css.group(1))
    assert fresh.status_code == 200 and "immutable" in fresh.headers["cache-control"]
    plain = roost.client.get("/static/roost.css")
    assert "immutable" not in plain.headers["cache-control"]
    again = roost.client.get("/static/roost.css", headers={"if-none-match": plain.headers["etag"]})
    assert again.status_code == 304
    assert roost.client.get("/static/../config.py").status_code == 404


@pytest.mark.settings(landing_page_posts=True)
def test_given_the_landing_preview_on_then_the_home_page_lists_recent_public_posts(
    roost: Roost,
) -> None:
    roost.account("alice").post_status("fresh public post")
    roost.drain_jobs()
    assert "fresh public post" in roost.client.get("/").text


def test_given_the_landing_preview_off_then_the_home_page_lists_no_posts(roost: Roost) -> None:
    roost.account("alice").post_status("fresh public post")
    roost.drain_jobs()
    home = roost.client.get("/")
    assert home.status_code == 200 and "fresh public post" not in home.text


@pytest.mark.settings(instance_title="Heron Point", registrations="open")
def test_given_rules_and_texts_then_home_about_privacy_and_terms_show_them(
    roost: Roost,
) -> None:
    from roost.domain.instance.rules import do_add_rule

    async def add() -> None:
        async with roost.db.write() as tx:
            await do_add_rule(tx, "Be kind to herons", "Even the grumpy ones")

    roost.run(add)
    home = roost.client.get("/").text
    assert "<h1>Heron Point</h1>" in home and "Be kind to herons" in home
    assert 'href="/auth/sign_up"' in home and 'href="/auth/sign_in"' in home
    about = roost.client.get("/about").text
    assert 'id="rules"' in about and "Even the grumpy ones" in about
    privacy = roost.client.get("/privacy-policy")
    assert privacy.status_code == 200 and "What is kept" in privacy.text
    terms = roost.client.get("/terms")
    assert terms.status_code == 200 and "not published terms" in terms.text


@pytest.mark.settings(registrations="closed")
def test_given_closed_sign_ups_then_the_home_page_offers_no_sign_up(roost: Roost) -> None:
    home = roost.client.get("/").text
    assert 'href="/auth/sign_in"' in home and 'href="/auth/sign_up"' not in home
    assert "invite link" in home


def test_given_written_texts_then_the_privacy_and_terms_pages_show_them(roost: Roost) -> None:
    folder = roost.settings.data_dir / "instance"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "privacy.html").write_text("<p>We keep very little.</p>")
    (folder / "terms.txt").write_text("Be kind.\n\nNo spam.")
    assert "We keep very little." in roost.client.get("/privacy-policy").text
    assert "<p>No spam.</p>" in roost.client.get("/terms").text
