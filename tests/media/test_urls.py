"""Signed media URLs: genuine, bound to one viewer and one file, and expiring."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from roost.media import urls

NOW = 1_800_000_000.0


@pytest.fixture(autouse=True)
def _keep_the_app_key() -> Iterator[None]:
    """These tests set their own signing key; a running app's key comes back after."""
    saved = urls._Keys.signing
    yield
    urls._Keys.signing = saved


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _check(attachment_id: int, query: dict[str, str], now: float = NOW) -> int | None:
    return urls.signed_viewer(
        attachment_id, query.get("viewer"), query.get("expires"), query.get("signature"), now
    )


def test_given_a_signed_url_then_it_names_its_viewer_until_it_expires() -> None:
    urls.configure("k" * 40)
    url = urls.attachment_url("https://x.example", 11, "original", "a.jpg", signed_for=7, now=NOW)
    query = _query(url)
    assert url.startswith("https://x.example/media/11/original/a.jpg?")
    assert _check(11, query) == 7
    # Good for at least a week, at most eight days, and the same all day.
    assert 7 * 86_400 <= int(query["expires"]) - NOW <= 8 * 86_400
    later = urls.attachment_url(
        "https://x.example", 11, "original", "a.jpg", signed_for=7, now=NOW + 60
    )
    assert later == url
    assert _check(11, query, now=int(query["expires"]) + 1) is None


def test_given_a_signature_for_one_thing_then_it_opens_nothing_else() -> None:
    urls.configure("k" * 40)
    query = _query(urls.attachment_url("https://x", 11, "small", "a.jpg", signed_for=7, now=NOW))
    assert _check(12, query) is None  # another attachment
    assert _check(11, {**query, "viewer": "8"}) is None  # another viewer
    assert _check(11, {**query, "expires": str(int(query["expires"]) + 86_400)}) is None
    assert _check(11, {**query, "signature": "A" * 22}) is None
    assert _check(11, {"viewer": "7"}) is None
    urls.configure("another secret key entirely")
    assert _check(11, query) is None  # a new secret revokes every URL


def test_given_a_public_url_then_it_carries_no_capability() -> None:
    urls.configure("k" * 40)
    assert (
        urls.attachment_url("https://x", 1, "original", "b.png")
        == "https://x/media/1/original/b.png"
    )
