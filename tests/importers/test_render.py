"""Imported posts skip the nh3 pass over HTML built from escaped text: the
result must be exactly what ``render`` (with nh3) makes, for any text."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from roost.domain.statuses import content
from roost.importers.twitter import mapping

BASES = ["https://roost.example", "http://localhost:8000", "https://x.org/sub/path"]
# Addresses nh3 takes as they are, and those whose href it drops.
LINKS = [
    "https://example.org/a?b=1&c=2#f",
    "HTTPS://EXAMPLE.COM/Ä",
    "http://a.b@",
    "http://a.b:99999/x",
    "http://1.2.3.4.5",
    "http://a.1",
    "http://xn--zz.com",
    "http://[::1]/x",
    "http://a.b)/x",
    "https://t.co/abc",
]
PIECES = [
    *LINKS,
    "#tag",
    "#Ünïcödé",
    "#123",
    "@bob",
    "@bob@roost.example",
    "&amp;",
    "&",
    "<script>",
    "<!--",
    '"',
    "'",
    "\n",
    "\n\n",
    "\r\n",
    "\x00",
    "\xa0",
    "\u2028",
    "\ufeff",
    "\U0001f426",
    " ",
    "word",
]


def _same(text: str, base_url: str) -> None:
    slow = content.render(text, {}, base_url)
    fast = content.render_without_mentions(text, base_url)
    assert (fast.html, fast.mentioned_ids, fast.tags) == (
        slow.html,
        slow.mentioned_ids,
        slow.tags,
    )


@pytest.mark.parametrize("base_url", [*BASES, "", "ftp://x", "https://a<b>", "https://a.1"])
@pytest.mark.parametrize("piece", PIECES)
def test_given_any_piece_then_the_fast_rendering_is_the_sanitised_one(
    piece: str, base_url: str
) -> None:
    _same(f"a {piece} b {piece}{piece} #x{piece}", base_url)


@given(
    text=st.lists(st.sampled_from(PIECES) | st.text(max_size=6), max_size=12).map("".join),
    base_url=st.sampled_from(BASES),
)
@example(text="\ud800 #x", base_url=BASES[0])
@settings(max_examples=400, deadline=None)
def test_given_any_text_then_the_fast_rendering_is_the_sanitised_one(
    text: str, base_url: str
) -> None:
    try:
        slow = content.render(text, {}, base_url)
    except Exception as error:  # a lone surrogate cannot be encoded for nh3
        with pytest.raises(type(error)):
            content.render_without_mentions(text, base_url)
        return
    fast = content.render_without_mentions(text, base_url)
    assert (fast.html, fast.tags) == (slow.html, slow.tags)


def test_given_handles_and_links_then_an_imported_post_renders_as_before() -> None:
    text = "@alice see https://example.org/x?a=1&b=2 #Birds\r\n\n@bob: a&b <i>"
    rendered = mapping.render(text, BASES[0])
    expected = mapping.link_handles(content.render(text, {}, BASES[0]).html)
    assert rendered.html == expected
    assert rendered.tags == ["Birds"]
    assert '<a href="https://twitter.com/alice"' in rendered.html
