"""Polls on the web: made with the compose form, shown on every page a post
is on (the public ones included), voted on from the card, with the API's
limits and refusals."""

from __future__ import annotations

from tests.conftest import Roost
from tests.web.support_app import post_form, signed_in_browser, token_of


def _poll_post(roost: Roost, name: str, **poll: str) -> tuple[dict[str, object], str]:
    author = roost.account(name)
    browser = signed_in_browser(roost, author)
    token = token_of(browser)
    answer = post_form(
        browser,
        "/web/statuses",
        token,
        status="Tea or coffee?",
        visibility="public",
        poll_option_1="Tea",
        poll_option_2="Coffee",
        poll_option_3="",
        poll_expires_in="3600",
        **poll,
    )
    assert answer.status_code == 303, answer.text[:600]
    made = author.get(f"/api/v1/accounts/{author.id}/statuses").json()[0]
    return made, token


def test_given_the_compose_form_with_poll_options_then_the_post_has_that_poll(
    roost: Roost,
) -> None:
    made, _ = _poll_post(roost, "alice", poll_multiple="1")
    poll = made["poll"]
    assert [o["title"] for o in poll["options"]] == ["Tea", "Coffee"]
    assert poll["multiple"] is True and poll["expired"] is False
    # Its public page shows the options to a visitor, with no form to vote.
    page = roost.client.get(f"/@alice/{made['id']}").text
    assert "Tea" in page and "Coffee" in page and "0 people voted" in page
    assert "/web/polls/" not in page


def test_given_a_poll_when_someone_votes_on_the_web_then_it_counts_and_the_card_shows_it(
    roost: Roost,
) -> None:
    made, _ = _poll_post(roost, "alice")
    poll_id = made["poll"]["id"]  # type: ignore[index]
    bob = roost.account("bob")
    browser = signed_in_browser(roost, bob)
    token = token_of(browser)
    page = browser.get(f"/@alice/{made['id']}").text
    assert f'action="/web/polls/{poll_id}/votes"' in page and 'type="radio"' in page
    answer = browser.post(
        f"/web/polls/{poll_id}/votes",
        data={"csrf_token": token, "choices": "1"},
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 200, answer.text[:400]
    assert "(your choice)" in answer.text and "100%" in answer.text
    assert f"/web/polls/{poll_id}/votes" not in answer.text
    seen = bob.get(f"/api/v1/polls/{poll_id}").json()
    assert seen["own_votes"] == [1] and seen["votes_count"] == 1
    # A second vote is refused as the API refuses it, and counts nothing.
    again = post_form(browser, f"/web/polls/{poll_id}/votes", token, choices="0")
    assert again.status_code == 422 and "already voted" in again.text
    assert bob.get(f"/api/v1/polls/{poll_id}").json()["votes_count"] == 1


def test_given_a_poll_the_form_breaks_the_rules_of_then_the_page_says_so(roost: Roost) -> None:
    alice = roost.account("alice")
    browser = signed_in_browser(roost, alice)
    token = token_of(browser)
    answer = post_form(
        browser,
        "/web/statuses",
        token,
        status="A poll of one",
        poll_option_1="Only",
        poll_expires_in="3600",
    )
    assert answer.status_code == 422 and "more than one item" in answer.text
    assert alice.get(f"/api/v1/accounts/{alice.id}/statuses").json() == []


def test_given_a_followers_only_poll_when_a_stranger_votes_then_not_found_and_not_counted(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    browser = signed_in_browser(roost, alice)
    answer = post_form(
        browser,
        "/web/statuses",
        token_of(browser),
        status="Friends only poll",
        visibility="private",
        poll_option_1="Yes",
        poll_option_2="No",
        poll_expires_in="3600",
    )
    assert answer.status_code == 303
    made = alice.get(f"/api/v1/accounts/{alice.id}/statuses").json()[0]
    poll_id = made["poll"]["id"]
    stranger = signed_in_browser(roost, roost.account("mallory"))
    refused = post_form(stranger, f"/web/polls/{poll_id}/votes", token_of(stranger), choices="0")
    assert refused.status_code == 404
    assert alice.get(f"/api/v1/polls/{poll_id}").json()["votes_count"] == 0
    # Without its CSRF token a vote is refused before anything happens.
    friend = roost.account("friend")
    friend.post(f"/api/v1/accounts/{alice.id}/follow")
    theirs = signed_in_browser(roost, friend)
    forged = theirs.post(f"/web/polls/{poll_id}/votes", data={"choices": "0"})
    assert forged.status_code == 403
    assert alice.get(f"/api/v1/polls/{poll_id}").json()["votes_count"] == 0
