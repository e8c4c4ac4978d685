"""Posts found through interactions when the searcher has more of them than
one page of the SQLite index's walk (roost/search/sqlite.py, ``_Walk``):
the same posts in the same order whatever the page size, across paging by
``max_id`` and ``min_id``, and a search reads as many interaction rows with
a long history as with a short one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from roost.db.fastread import FastReader
from roost.search import sqlite
from tests.conftest import Roost, User


def _ids(user: User, **params: Any) -> list[str]:
    response = user.get("/api/v2/search", params={"type": "statuses", **params})
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()["statuses"]]


@pytest.mark.parametrize(
    ("batch", "few_matches"),
    [(2000, 1000), (2000, 1), (2, 1), (3, 1)],
    ids=["intersect", "read-words", "pages-of-2", "pages-of-3"],
)
def test_given_more_interactions_than_a_page_when_paging_then_every_match_once_in_order(
    roost: Roost, batch: int, few_matches: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given bob's interactions of every kind, matches spread among posts he
    # interacted with that do not match and among posts he never touched
    monkeypatch.setattr(sqlite, "BATCH", batch)
    monkeypatch.setattr(sqlite, "_FEW_MATCHES", few_matches)
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    bob.follow(alice)
    wanted: set[str] = set()
    later: list[dict[str, Any]] = []
    for n in range(15):
        word = "tide" if n % 3 != 1 else "harbour"
        if n % 5 == 4:
            post = carol.post_status(f"@bob {word} note {n}", visibility="private")
        else:
            post = alice.post_status(f"{word} log {n}")
            kind = n % 5
            if kind == 0:
                assert bob.post(f"/api/v1/statuses/{post['id']}/favourite").status_code == 200
            elif kind == 1:
                assert bob.post(f"/api/v1/statuses/{post['id']}/bookmark").status_code == 200
            elif kind == 2:
                assert bob.post(f"/api/v1/statuses/{post['id']}/reblog").status_code == 200
            else:
                bob.post_status("well said", in_reply_to_id=post["id"])
        untouched = alice.post_status(f"tide untouched {n}")
        if n in (1, 6):
            later.append(untouched)
        if word == "tide":
            wanted.add(post["id"])
    # Replies to older posts, written last: newer than the replies before them
    # but to older posts, so the order of replies is not that of their posts.
    for post in later:
        bob.post_status("on second thought", in_reply_to_id=post["id"])
        wanted.add(post["id"])
    expected = sorted(wanted, key=int, reverse=True)
    roost.drain_jobs()

    # When bob searches, whole and in pages of 2 by max_id
    whole = _ids(bob, q="tide", limit=40)
    paged: list[str] = []
    page = _ids(bob, q="tide", limit=2)
    while page:
        paged += page
        page = _ids(bob, q="tide", limit=2, max_id=page[-1])

    # Then every post he interacted with that matches, newest first, once
    assert whole == expected
    assert paged == expected
    # And min_id (alone, and with max_id) bounds the same list from below
    assert _ids(bob, q="tide", limit=40, min_id=expected[6]) == expected[:6]
    assert _ids(bob, q="tide", limit=40, min_id=expected[7], max_id=expected[2]) == expected[3:7]
    assert _ids(bob, q="tide", limit=2, min_id=expected[7], max_id=expected[2]) == expected[3:5]


@contextmanager
def _rows_read() -> Iterator[list[int]]:
    """How many rows the prepared reads return while inside."""
    counts: list[int] = []
    plain_all = FastReader.all

    async def counting_all(self: FastReader, prepared: Any, **kwargs: Any) -> Any:
        rows = await plain_all(self, prepared, **kwargs)
        counts.append(len(rows))
        return rows

    FastReader.all = counting_all  # type: ignore[method-assign]
    try:
        yield counts
    finally:
        FastReader.all = plain_all  # type: ignore[method-assign]


@pytest.mark.parametrize("few_matches", [1000, 1], ids=["intersect", "read-words"])
def test_given_a_longer_history_when_searching_then_no_more_rows_are_read(
    roost: Roost, few_matches: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite, "_FEW_MATCHES", few_matches)
    alice, bob = roost.account("alice"), roost.account("bob")
    bob.follow(alice)

    def favourite(post: dict[str, Any]) -> None:
        assert bob.post(f"/api/v1/statuses/{post['id']}/favourite").status_code == 200

    def rows_of_a_search() -> int:
        _ids(bob, q="tide", limit=2)  # caches warm, as on a running server
        with _rows_read() as counts:
            found = _ids(bob, q="tide", limit=2)
        assert found == [p["id"] for p in reversed(matching[1:])]
        return sum(counts)

    # Given older posts, the newest five of which bob favourited, then three
    # that match he favourited, then two that match he did not touch
    older = [alice.post_status(f"harbour {n}") for n in range(45)]
    matching = [alice.post_status(f"tide {n}") for n in range(3)]
    for post in older[-5:] + matching:
        favourite(post)
    alice.post_status("tide untouched")
    alice.post_status("tide untouched again")
    roost.drain_jobs()
    short = rows_of_a_search()

    # When his history grows by forty favourites of older posts still
    for post in older[:-5]:
        favourite(post)
    long = rows_of_a_search()

    # Then a search reads no more rows than before
    assert long == short


def test_given_the_matches_listed_for_interactions_then_their_ids_fill_a_list_unpadded() -> None:
    # The matches listed (one more than few, to tell there are more) are asked
    # about in five lists of ids; on SQLite a list is padded to a power of two,
    # and one past it doubled every list.
    from roost.db.fastread import _bucket

    listed = sqlite._FEW_MATCHES + 1
    assert _bucket(listed) == listed
