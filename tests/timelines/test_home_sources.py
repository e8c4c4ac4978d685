"""The home timeline read source by source (roost/domain/timelines/home.py).

Two things must hold. Every page is exactly what the home rule, the viewer's
mutes and the privacy policy give when asked of every post at once (the
single statement the page used to be, kept here as the oracle), through
every way of paging. And the work of a page does not grow with the table:
neither with strangers' posts between the followed ones (a quiet follow
list) nor with a followed account's history (a prolific one), the two cases
in which one statement over ``statuses`` read up to the whole table.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import bindparam, insert

from roost.clock import utcnow
from roost.db.tables import statuses
from roost.db.types import Id
from roost.domain.graph.mutes import mute_time
from roost.domain.lists.queries import list_rule
from roost.domain.privacy import timeline_reader
from roost.domain.statuses.feed_pages import PagedRead
from roost.domain.statuses.feed_rows import feed_select
from roost.domain.timelines import by_source, home
from roost.domain.timelines.pages import on_home
from roost.domain.timelines.quiet import home_filter, read_time
from roost.domain.timelines.reads import Timelines
from roost.domain.types import Page, Viewer, Visibility
from roost.ids import id_for_time
from roost.timelines.sql import SqlTimelineStore
from tests.conftest import Roost, User

# The page as one statement over every post: the rule as it is written.
ORACLE = PagedRead(lambda viewer: feed_select(viewer).where(on_home(viewer, now=read_time())))


def _viewer(user: User) -> Viewer:
    return timeline_reader(Viewer(account_id=int(user.id), scopes=frozenset({"read"})))


def _ids(roost: Roost, user: User, page: Page, *, oracle: bool = False) -> list[int]:
    viewer = _viewer(user)

    async def read() -> list[int]:
        async with roost.db.scope() as reads:
            if oracle:
                shown = await ORACLE.page(reads, viewer, page, now=mute_time())
            else:
                shown = await home.home_page(reads, viewer, page)
        return [v.value.status.id for v in shown]

    found: list[int] = roost.run(read)
    return found


def _walk(roost: Roost, user: User, *, oracle: bool, limit: int, up: bool) -> list[list[int]]:
    """Every page from the newest down by max_id (or from the oldest up by min_id)."""
    pages: list[list[int]] = []
    cursor: int | None = None
    while len(pages) < 100:
        if up:
            page = Page(min_id=cursor if cursor is not None else 0, limit=limit)
        else:
            page = Page(max_id=cursor, limit=limit)
        ids = _ids(roost, user, page, oracle=oracle)
        if not ids:
            return pages
        pages.append(ids)
        cursor = ids[0] if up else ids[-1]
    raise AssertionError("paging did not end")


def _unfollow_boosts(user: User, other: User) -> None:
    answer = user.post(f"/api/v1/accounts/{other.id}/follow", json={"reblogs": False})
    assert answer.status_code == 200, answer.text


@pytest.fixture
def varied(roost: Roost) -> User:
    """alice's home from every kind of source, with posts the rules keep out."""
    alice, bob, carol, dave, erin, mallory = (
        roost.account(n) for n in ("alice", "bob", "carol", "dave", "erin", "mallory")
    )
    for other in (bob, carol, erin, mallory):
        alice.follow(other)
    _unfollow_boosts(alice, erin)
    assert alice.post("/api/v1/tags/birds/follow").status_code == 200
    carol.post_status("an early post, then quiet")
    strangers = [
        dave.post_status(f"dave {n} #birds" if n % 3 == 0 else f"dave {n}") for n in range(12)
    ]
    dave.post_status("unlisted #birds", visibility="unlisted")
    for n in range(14):
        bob.post_status(f"bob {n}")
        stranger = strangers[n % len(strangers)]["id"]
        if n % 4 == 0:
            bob.post_status("@dave a reply to a stranger", in_reply_to_id=stranger)
        if n % 5 == 0:
            assert erin.post(f"/api/v1/statuses/{stranger}/reblog").status_code == 200
            assert bob.post(f"/api/v1/statuses/{stranger}/reblog").status_code == 200
    alice.post_status("alice's own")
    bob.post_status("for followers", visibility="private")
    bob.post_status("@carol a direct post to someone else", visibility="direct")
    mallory.post_status("muted soon")
    assert alice.post(f"/api/v1/accounts/{mallory.id}/mute").status_code == 200
    return alice


@pytest.mark.parametrize(("window", "candidates"), [(400, 2000), (3, 2000), (3, 1), (0, 1)])
def test_given_a_varied_home_when_paged_every_way_then_pages_match_the_rule_at_once(
    roost: Roost, varied: User, window: int, candidates: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given alice's home (above), read with the newest posts first over
    # ``window`` posts (400: every page in that one step; 0: every page
    # source by source), then with ``candidates`` (1: every source gives the
    # fewest candidates and most pages take several rounds).
    monkeypatch.setattr(by_source, "_WINDOW", window)
    monkeypatch.setattr(by_source, "_CANDIDATES", candidates)
    # When it is paged down by max_id and up by min_id, 5 at a time, and
    # read in one page of 40.
    for up in (False, True):
        mine = _walk(roost, varied, oracle=False, limit=5, up=up)
        # Then every page is the oracle's.
        assert mine == _walk(roost, varied, oracle=True, limit=5, up=up)
    whole = _ids(roost, varied, Page(limit=40))
    assert whole == _ids(roost, varied, Page(limit=40), oracle=True)
    assert len(whole) > 20
    # And since_id with max_id, a window in the middle.
    middle = Page(max_id=whole[3], since_id=whole[15], limit=6)
    assert _ids(roost, varied, middle) == _ids(roost, varied, middle, oracle=True) == whole[4:10]


def _bulk(roost: Roost, author: int, count: int, *, hours_ago: float) -> None:
    """``count`` public posts by ``author``, a second apart, written straight
    into the table (thousands through the API would take minutes)."""
    start = utcnow() - timedelta(hours=hours_ago)
    rows: list[dict[str, Any]] = []
    for n in range(count):
        moment = start + timedelta(seconds=n)
        rows.append(
            {
                "id": id_for_time(moment, n),
                "account_id": author,
                "visibility": int(Visibility.PUBLIC),
                "text": f"post {n}",
                "content": f"<p>post {n}</p>",
                "spoiler_text": "",
                "sensitive": False,
                "created_at": moment,
            }
        )

    async def write() -> None:
        async with roost.db.write() as tx:
            await tx.conn.execute(insert(statuses), rows)

    roost.run(write)


def _steps(roost: Roost, user: User) -> int:
    """SQLite virtual machine steps (in hundreds) of reading the first page."""
    viewer = _viewer(user)

    async def read() -> int:
        steps = [0]

        def count() -> int:
            steps[0] += 1
            return 0

        async with roost.db.scope() as reads:
            conn = reads.fast._sqlite()
            conn.set_progress_handler(count, 100)
            try:
                await home.home_page(reads, viewer, Page(limit=20))
            finally:
                conn.set_progress_handler(None, 0)
        return steps[0]

    found: int = roost.run(read)
    return found


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_given_a_growing_table_when_home_is_read_then_its_work_does_not_grow(
    roost: Roost,
) -> None:
    # Given quinn, who follows only a quiet account (one post, then
    # strangers post), and pat, who follows a prolific one.
    quinn, quiet, pat, prolific, stranger = (
        roost.account(n) for n in ("quinn", "quiet", "pat", "prolific", "stranger")
    )
    quinn.follow(quiet)
    pat.follow(prolific)
    quiet.post_status("now and then")
    for user in (quinn, pat):
        user.post_status("hello")
    _bulk(roost, int(prolific.id), 300, hours_ago=30)
    _bulk(roost, int(stranger.id), 300, hours_ago=20)
    small = {user.username: _steps(roost, user) for user in (quinn, pat)}
    # When ten times as many posts are written, by the stranger and by the
    # prolific account, all of them newer than the quiet account's post.
    _bulk(roost, int(prolific.id), 3000, hours_ago=10)
    _bulk(roost, int(stranger.id), 3000, hours_ago=5)
    # Then reading each home takes about as much work as before (one
    # statement over ``statuses`` read every stranger's post for quinn, or
    # every prolific post for pat, depending on its plan).
    for user in (quinn, pat):
        assert _steps(roost, user) < 2 * small[user.username] + 20, user.username


def _list_oracle(policy: str) -> PagedRead:
    def build(viewer: Viewer) -> Any:
        assert viewer.account_id is not None
        return feed_select(viewer).where(
            list_rule(viewer.account_id, bindparam("list_id", type_=Id), policy),
            home_filter(viewer, now=read_time()),
        )

    return PagedRead(build)


@pytest.mark.parametrize("policy", ["followed", "list", "none"])
def test_given_a_list_when_paged_every_way_then_pages_match_its_rule_at_once(
    roost: Roost, varied: User, policy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given alice's list of bob and erin (above), each with its replies
    # policy, read over a window of 3 posts, then with the fewest
    # candidates per member.
    monkeypatch.setattr(by_source, "_WINDOW", 3)
    monkeypatch.setattr(by_source, "_CANDIDATES", 1)
    made = varied.post("/api/v1/lists", json={"title": "close", "replies_policy": policy})
    assert made.status_code == 200, made.text
    list_id = int(made.json()["id"])
    following = varied.get(f"/api/v1/accounts/{varied.id}/following").json()
    bob_and_erin = [a["id"] for a in following if a["username"] in ("bob", "erin")]
    assert len(bob_and_erin) == 2
    added = varied.post(f"/api/v1/lists/{list_id}/accounts", json={"account_ids": bob_and_erin})
    assert added.status_code == 200, added.text
    viewer = _viewer(varied)
    oracle = _list_oracle(policy)

    def read(page: Page, *, at_once: bool) -> list[int]:
        async def body() -> list[int]:
            async with roost.db.scope() as reads:
                if at_once:
                    shown = await oracle.page(reads, viewer, page, list_id=list_id, now=mute_time())
                else:
                    timelines = Timelines(SqlTimelineStore())
                    shown = await timelines.list_timeline(reads, viewer, list_id, page)
            return [v.value.status.id for v in shown]

        found: list[int] = roost.run(body)
        return found

    # When it is paged down by max_id and up by min_id, 4 at a time.
    for up in (False, True):
        pages: list[list[int]] = []
        expected: list[list[int]] = []
        for at_once, into in ((False, pages), (True, expected)):
            cursor: int | None = 0 if up else None
            while True:
                page = Page(min_id=cursor, limit=4) if up else Page(max_id=cursor, limit=4)
                ids = read(page, at_once=at_once)
                if not ids:
                    break
                into.append(ids)
                cursor = ids[0] if up else ids[-1]
        # Then every page is the rule's, read at once.
        assert pages == expected
        assert sum(len(p) for p in pages) > 8
