"""Turning a post's text into safe HTML."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from roost.domain.statuses.content import character_count, hashtags, render

BASE = "https://roost.example"


def test_given_a_known_and_an_unknown_mention_then_only_the_known_one_links() -> None:
    rendered = render("hi @alice and @ghost", {"alice": (7, "Alice")}, BASE)
    assert rendered.mentioned_ids == [7]
    assert 'href="https://roost.example/@Alice"' in rendered.html
    assert "@ghost" in rendered.html and "/@ghost" not in rendered.html


def test_given_paragraphs_and_line_breaks_then_they_become_p_and_br() -> None:
    html = render("one\ntwo\n\nthree", {}, BASE).html
    assert html == "<p>one<br>two</p><p>three</p>"


def test_given_tags_then_numbers_are_not_tags_and_duplicates_collapse() -> None:
    assert hashtags("#Roost #roost #2024 #café") == ["Roost", "café"]


def test_given_links_then_they_weigh_23_characters() -> None:
    assert character_count("x https://example.org/" + "a" * 100) == 2 + 23


@given(st.text(max_size=300))
def test_given_any_text_then_the_html_carries_only_our_own_markup(text: str) -> None:
    html = render(text, {}, BASE).html
    without_ours = re.sub(r"</?(p|br|a|span)( [^>]*)?>", "", html)
    assert "<" not in without_ours
    assert all(
        href.startswith(("http://", "https://")) for href in re.findall(r'href="([^"]*)"', html)
    )
