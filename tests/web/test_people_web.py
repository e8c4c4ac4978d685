"""The rest of the web app: notifications, search, lists, follow requests,
blocks and mutes, profile and preferences. Visitors are sent to sign in,
forms without their CSRF token change nothing, and nobody reaches another
person's list or sees a post the privacy policy hides."""

from __future__ import annotations

import re

import pytest

from tests.conftest import Roost
from tests.media import samples
from tests.web.support import csrf
from tests.web.support_app import post_form, signed_in_browser, token_of


def test_given_a_mention_and_a_favourite_then_the_notifications_page_shows_them(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    post = alice.post_status("a thought")
    bob.post(f"/api/v1/statuses/{post['id']}/favourite")
    bob.post_status("@alice hello there")
    roost.drain_jobs()
    browser = signed_in_browser(roost, alice)
    page = browser.get("/web/notifications")
    assert page.status_code == 200
    assert "favourited your post" in page.text and "mentioned you" in page.text
    assert "hello there" in page.text
    assert page.text.count('class="new"') == 2
    newest = re.search(r'name="last_read_id" value="(\d+)"', page.text)
    assert newest is not None
    read = post_form(
        browser, "/web/notifications/read", csrf(page.text), last_read_id=newest.group(1)
    )
    assert read.status_code == 303
    page = browser.get("/web/notifications")
    assert 'class="new"' not in page.text and "Mark all as read" not in page.text
    marker = alice.get("/api/v1/markers", params={"timeline[]": "notifications"}).json()
    assert marker["notifications"]["last_read_id"] == newest.group(1)


def test_given_a_search_then_accounts_tags_and_posts_are_found_but_not_hidden_posts(
    roost: Roost,
) -> None:
    alice, eve = roost.account("alice"), roost.account("eve")
    # Public posts are searchable when their author opted in, as on Mastodon.
    alice.patch("/api/v1/accounts/update_credentials", json={"indexable": True})
    alice.post_status("pelicans are great #birds")
    alice.post_status("pelicans secret", visibility="private")
    roost.drain_jobs()
    browser = signed_in_browser(roost, eve)
    page = browser.get("/web/search", params={"q": "alice"})
    assert page.status_code == 200 and 'href="/@alice"' in page.text
    page = browser.get("/web/search", params={"q": "pelicans"})
    assert "pelicans are great" in page.text
    assert "pelicans secret" not in page.text
    page = browser.get("/web/search", params={"q": "birds"})
    assert 'href="/tags/birds"' in page.text


def test_given_a_list_when_made_and_filled_on_the_web_then_its_posts_show(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    bob.follow(alice)
    browser = signed_in_browser(roost, bob)
    token = token_of(browser, "/web/lists")
    made = post_form(browser, "/web/lists", token, title="Friends")
    assert made.status_code == 303
    list_url = made.headers["location"]
    list_id = list_url.rsplit("/", 1)[-1]
    added = post_form(browser, f"{list_url}/members", token, username="@alice")
    assert added.status_code == 303, added.text[:400]
    alice.post_status("for the list")
    roost.drain_jobs()
    page = browser.get(list_url)
    assert page.status_code == 200 and "for the list" in page.text and "@alice" in page.text
    members = bob.get(f"/api/v1/lists/{list_id}/accounts").json()
    assert [m["username"] for m in members] == ["alice"]
    # Someone else's list is not found, nor can they change it.
    eve = signed_in_browser(roost, roost.account("eve"))
    eve_token = token_of(eve, "/web/lists")
    assert eve.get(list_url).status_code == 404
    assert post_form(eve, f"{list_url}/delete", eve_token).status_code == 404
    assert post_form(eve, f"{list_url}/members", eve_token, username="eve").status_code == 404
    removed = post_form(browser, f"{list_url}/members/{alice.id}/remove", token)
    assert removed.status_code == 303
    assert bob.get(f"/api/v1/lists/{list_id}/accounts").json() == []
    assert post_form(browser, f"{list_url}/delete", token).status_code == 303
    assert bob.get("/api/v1/lists").json() == []


def test_given_a_locked_account_then_follow_requests_are_answered_on_the_web(
    roost: Roost,
) -> None:
    alice = roost.account("alice", locked=True)
    bob, carol = roost.account("bob"), roost.account("carol")
    bob.follow(alice)
    carol.follow(alice)
    browser = signed_in_browser(roost, alice)
    page = browser.get("/web/follow_requests")
    assert "@bob" in page.text and "@carol" in page.text
    token = token_of(browser, "/web/follow_requests")
    assert post_form(browser, f"/web/follow_requests/{bob.id}/authorize", token).status_code == 303
    assert post_form(browser, f"/web/follow_requests/{carol.id}/reject", token).status_code == 303
    relations = alice.get(
        "/api/v1/accounts/relationships", params={"id[]": [bob.id, carol.id]}
    ).json()
    assert [r["followed_by"] for r in relations] == [True, False]
    assert "Nobody is waiting" in browser.get("/web/follow_requests").text


def test_given_blocks_and_mutes_then_their_pages_list_and_undo_them(roost: Roost) -> None:
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    browser = signed_in_browser(roost, alice)
    token = token_of(browser)
    assert post_form(browser, f"/web/accounts/{bob.id}/block", token).status_code == 303
    assert post_form(browser, f"/web/accounts/{carol.id}/mute", token).status_code == 303
    assert "@bob" in browser.get("/web/blocks").text
    assert "@carol" in browser.get("/web/mutes").text
    assert post_form(browser, f"/web/accounts/{bob.id}/unblock", token).status_code == 303
    assert post_form(browser, f"/web/accounts/{carol.id}/unmute", token).status_code == 303
    assert "You block nobody" in browser.get("/web/blocks").text
    assert "You mute nobody" in browser.get("/web/mutes").text


def test_given_the_profile_form_then_profile_images_and_preferences_are_saved(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    browser = signed_in_browser(roost, alice)
    token = token_of(browser, "/settings/profile")
    saved = browser.post(
        "/settings/profile",
        data={
            "csrf_token": token,
            "display_name": "Alice A.",
            "note": "I like birds",
            "field_name_1": "Site",
            "field_value_1": "https://example.org",
            "locked": "1",
        },
        files={"avatar": ("me.png", samples.png(), "image/png")},
    )
    assert saved.status_code == 200 and "Your profile is saved" in saved.text
    me = alice.get("/api/v1/accounts/verify_credentials").json()
    assert me["display_name"] == "Alice A." and me["locked"] is True
    assert me["fields"][0]["name"] == "Site" and "missing.png" not in me["avatar"]
    prefs = post_form(
        browser,
        "/settings/preferences",
        token,
        default_visibility="unlisted",
        default_language="de",
        default_sensitive="1",
        default_quote_policy="followers",
    )
    assert prefs.status_code == 200
    assert '<option value="followers" selected>My followers</option>' in prefs.text
    me = alice.get("/api/v1/accounts/verify_credentials").json()
    assert me["source"]["privacy"] == "unlisted" and me["source"]["language"] == "de"
    assert me["source"]["sensitive"] is True and me["source"]["quote_policy"] == "followers"
    wrong = post_form(
        browser, "/settings/preferences", token, default_visibility="public",
        default_quote_policy="everyone",
    )  # fmt: skip
    assert wrong.status_code == 422
    bad = post_form(browser, "/settings/preferences", token, default_visibility="direct")
    assert bad.status_code == 422
    home = browser.get("/home")
    selected = re.search(r'<option value="(\w+)" selected>', home.text)
    assert selected is not None and selected.group(1) == "unlisted"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/web/notifications"),
        ("get", "/web/search"),
        ("get", "/web/lists"),
        ("get", "/web/lists/1"),
        ("post", "/web/lists"),
        ("get", "/web/follow_requests"),
        ("post", "/web/follow_requests/1/authorize"),
        ("get", "/web/blocks"),
        ("get", "/web/mutes"),
        ("get", "/settings/profile"),
        ("post", "/settings/profile"),
        ("post", "/settings/preferences"),
    ],
)
def test_given_a_visitor_then_these_pages_send_them_to_sign_in(
    roost: Roost, method: str, path: str
) -> None:
    answer = getattr(roost.client, method)(path, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/auth/sign_in?next=")


def test_given_no_token_then_these_forms_change_nothing(roost: Roost) -> None:
    alice = roost.account("alice", locked=True)
    bob = roost.account("bob")
    bob.follow(alice)
    browser = signed_in_browser(roost, alice)
    token_of(browser)
    for path, data in (
        ("/web/lists", {"title": "forged"}),
        (f"/web/follow_requests/{bob.id}/authorize", {}),
        ("/settings/profile", {"display_name": "forged"}),
        ("/settings/preferences", {"default_visibility": "unlisted"}),
    ):
        assert browser.post(path, data=data).status_code == 403, path
    assert alice.get("/api/v1/lists").json() == []
    me = alice.get("/api/v1/accounts/verify_credentials").json()
    assert me["display_name"] != "forged" and me["source"]["privacy"] == "public"
    assert alice.get("/api/v1/follow_requests").json()[0]["username"] == "bob"
