"""How a received Note's addressing reads as a visibility, and what is left
of another server's HTML (roost/domain/federation/notes.py, remote.py)."""

from __future__ import annotations

from roost.domain.federation.notes import PUBLIC, visibility_of
from roost.domain.federation.remote import clean_html, split_acct
from roost.visibility import Visibility

FOLLOWERS = "https://b.example/users/bob/followers"


def test_given_public_in_to_then_public_and_in_cc_then_unlisted() -> None:
    assert visibility_of({"to": [PUBLIC], "cc": [FOLLOWERS]}, FOLLOWERS) == Visibility.PUBLIC
    assert visibility_of({"to": [FOLLOWERS], "cc": [PUBLIC]}, FOLLOWERS) == Visibility.UNLISTED
    assert visibility_of({"to": "as:Public"}, FOLLOWERS) == Visibility.PUBLIC


def test_given_only_the_followers_collection_then_followers_only() -> None:
    assert visibility_of({"to": [FOLLOWERS], "cc": []}, FOLLOWERS) == Visibility.PRIVATE
    assert visibility_of({"to": [], "cc": FOLLOWERS}, FOLLOWERS) == Visibility.PRIVATE


def test_given_people_only_or_another_collection_then_not_stored() -> None:
    assert visibility_of({"to": ["https://a.example/users/alice"]}, FOLLOWERS) is None
    other = "https://b.example/users/eve/followers"
    assert visibility_of({"to": [other]}, FOLLOWERS) is None
    assert visibility_of({"to": [FOLLOWERS]}, None) is None


def test_given_remote_html_then_scripts_and_handlers_are_gone() -> None:
    cleaned = clean_html(
        '<p onclick="x()">hi <script>alert(1)</script><a href="javascript:x">a</a>'
        '<a href="https://b.example/">b</a><img src="https://b.example/i.png"></p>'
    )
    assert "script" not in cleaned and "onclick" not in cleaned and "javascript" not in cleaned
    assert "<img" not in cleaned
    assert 'href="https://b.example/"' in cleaned
    assert clean_html(None) == ""


def test_given_an_acct_then_its_parts() -> None:
    assert split_acct("@Bob@B.Example:8002") == ("Bob", "b.example:8002")
    assert split_acct("bob") == ("bob", "")
