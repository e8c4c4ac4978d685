"""The drill for scenario 8 (a URL lets anyone read anyone's DMs): random social
graphs, checked after every step against the reference model in model.py.

Three accounts (two of them locked) follow, ask, approve, block, mute, post in
every visibility, reply, boost, bookmark, favourite, delete, and get suspended.
After each step, for every viewer (each account, a staff member, and nobody):
  - every listing route answers exactly what the model says (timelines,
    profiles, bookmarks, favourites, the direct timeline, requests, blocks,
    mutes, relationships), or for notifications and conversations only
    what the model allows;
  - no answer names a post the viewer may not see (every post id ever made is
    searched for in every body, so an embedded post or a reply's parent leaking
    is caught too);
  - a single fetch of every post ever made answers 200 exactly when visible,
    404 otherwise (anonymous on every step, the other viewers in turn; the
    batch fetch of every post checks all viewers on every step).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from roost.app import create_app
from roost.config import Settings
from roost.domain.graph.counts import do_suspend, do_unsuspend
from tests.conftest import Roost, User, _truncate
from tests.privacy.model import DIRECT, PRIVATE, PUBLIC, UNLISTED, Model, Post
from tests.privacy.observer import ACTORS, Observer

LOCKED = {"ann": True, "ben": False, "cat": True}
VISIBILITIES = (PUBLIC, UNLISTED, PRIVATE, DIRECT)

# Sized to run in well under a minute per backend; ROOST_PRIVACY_EXAMPLES=200
# explores far more graphs (a nightly run, or after changing the policy).
EXAMPLES = int(os.environ.get("ROOST_PRIVACY_EXAMPLES", "4"))

actors = st.sampled_from(ACTORS)
pairs = st.tuples(actors, actors)


class Fresh:
    """Makes an empty Roost for each example, on the backend under test."""

    def __init__(self, base: Settings, backend: str, template: Path | None, url: str) -> None:
        self.base, self.backend, self.template, self.url = base, backend, template, url

    def open(self) -> tuple[TestClient, Roost, Path | None]:
        overrides: dict[str, Any] = {"run_jobs_in_process": False}
        scratch: Path | None = None
        if self.backend == "sqlite":
            assert self.template is not None
            scratch = Path(tempfile.mkdtemp(prefix="roost-machine-"))
            shutil.copy(self.template, scratch / "roost.sqlite3")
            overrides["data_dir"] = scratch
        else:
            asyncio.run(_truncate(self.url))
        settings_ = self.base.model_copy(update=overrides)
        client = TestClient(create_app(settings_))
        client.__enter__()
        return client, Roost(client, settings_), scratch


class PrivacyMachine(RuleBasedStateMachine):
    fresh: Fresh  # set by the test before the machine runs

    posts = Bundle("posts")

    def __init__(self) -> None:
        super().__init__()
        self.client, self.roost, self.scratch = self.fresh.open()
        self.model = Model(locked=dict(LOCKED), admins={"staff"})
        self.users: dict[str, User] = {}
        self.counter = 0
        self.observer = Observer(self.client.app, self.model, self.users)

    def teardown(self) -> None:
        try:
            self.roost.run(self.observer.close)
        finally:
            self.client.__exit__(None, None, None)
            if self.scratch is not None:
                shutil.rmtree(self.scratch, ignore_errors=True)

    @initialize(
        target=posts,
        follows=st.lists(pairs, max_size=4),
        blocks=st.lists(pairs, max_size=2),
        mentions=st.lists(st.frozensets(actors, max_size=2), min_size=6, max_size=6),
    )
    def seed(
        self,
        follows: list[tuple[str, str]],
        blocks: list[tuple[str, str]],
        mentions: list[frozenset[str]],
    ) -> Any:
        """Start every example with a random graph and, from each account, a
        public, a followers-only and a direct post: the steps then have
        something hidden to leak."""
        for name in ACTORS:
            self.users[name] = self.roost.account(name, locked=LOCKED[name])
        self.users["staff"] = self.roost.account("staff", admin=True)
        for pair in follows:
            self.follow(pair)
        for pair in blocks:
            self.block(pair, lift=False)
        made = []
        for index, author in enumerate(ACTORS):
            for visibility, mentioned in zip(
                (PUBLIC, PRIVATE, DIRECT),
                (frozenset(), *mentions[2 * index : 2 * index + 2]),
                strict=True,
            ):
                made.append(self._publish(author, visibility, mentioned))
        return multiple(*made)

    def active(self, name: str) -> bool:
        return name not in self.model.suspended

    # -- the graph ---------------------------------------------------------

    @rule(pair=pairs)
    def follow(self, pair: tuple[str, str]) -> None:
        me, other = pair
        if not self.active(me):
            return
        response = self.users[me].post(f"/api/v1/accounts/{self.users[other].id}/follow")
        m = self.model
        if me == other:
            assert response.status_code == 422
        elif other in m.suspended:
            assert response.status_code == 404
        elif m.blocked(me, other):
            assert response.status_code == 403
        else:
            assert response.status_code == 200, response.text
            if (me, other) not in m.follows:
                if m.locked[other]:
                    m.requests.add((me, other))
                else:
                    m.follows.add((me, other))

    @rule(pair=pairs, approve=st.booleans())
    def answer_request(self, pair: tuple[str, str], approve: bool) -> None:
        me, requester = pair
        if not self.active(me):
            return
        verb = "authorize" if approve else "reject"
        response = self.users[me].post(f"/api/v1/follow_requests/{self.users[requester].id}/{verb}")
        m = self.model
        if (requester, me) not in m.requests:
            assert response.status_code == 404
            return
        assert response.status_code == 200, response.text
        m.requests.discard((requester, me))
        if approve:
            m.follows.add((requester, me))

    @rule(pair=pairs)
    def unfollow(self, pair: tuple[str, str]) -> None:
        me, other = pair
        if not self.active(me):
            return
        response = self.users[me].post(f"/api/v1/accounts/{self.users[other].id}/unfollow")
        if other in self.model.suspended:
            assert response.status_code == 404
            return
        assert response.status_code == 200, response.text
        self.model.follows.discard((me, other))
        self.model.requests.discard((me, other))

    @rule(pair=pairs, lift=st.booleans())
    def block(self, pair: tuple[str, str], lift: bool) -> None:
        me, other = pair
        if not self.active(me):
            return
        verb = "unblock" if lift else "block"
        response = self.users[me].post(f"/api/v1/accounts/{self.users[other].id}/{verb}")
        m = self.model
        if me == other and not lift:
            assert response.status_code == 422
        elif other in m.suspended:
            assert response.status_code == 404
        else:
            assert response.status_code == 200, response.text
            if lift:
                m.blocks.discard((me, other))
            else:
                m.blocks.add((me, other))
                for one, two in ((me, other), (other, me)):
                    m.follows.discard((one, two))
                    m.requests.discard((one, two))

    @rule(pair=pairs, lift=st.booleans(), hide=st.booleans())
    def mute(self, pair: tuple[str, str], lift: bool, hide: bool) -> None:
        me, other = pair
        if not self.active(me):
            return
        path = f"/api/v1/accounts/{self.users[other].id}/{'unmute' if lift else 'mute'}"
        response = self.users[me].post(path, json={"notifications": hide})
        m = self.model
        if me == other and not lift:
            assert response.status_code == 422
        elif other in m.suspended:
            assert response.status_code == 404
        else:
            assert response.status_code == 200, response.text
            if lift:
                m.mutes.pop((me, other), None)
            else:
                m.mutes[(me, other)] = hide

    @rule(who=actors, lift=st.booleans())
    def suspend(self, who: str, lift: bool) -> None:
        account_id = int(self.users[who].id)

        async def change() -> None:
            async with self.roost.db.write() as tx:
                await (do_unsuspend if lift else do_suspend)(tx, account_id)

        self.roost.run(change)
        if lift:
            self.model.suspended.discard(who)
        else:
            self.model.suspended.add(who)

    # -- posts -------------------------------------------------------------

    def _text(self, mentioned: frozenset[str]) -> str:
        self.counter += 1
        names = " ".join(f"@{name}" for name in sorted(mentioned))
        return f"post {self.counter} {names} #t"

    @rule(
        target=posts,
        author=actors,
        visibility=st.sampled_from(VISIBILITIES),
        mentioned=st.frozensets(actors, max_size=2),
    )
    def post(self, author: str, visibility: str, mentioned: frozenset[str]) -> Any:
        if not self.active(author):
            return multiple()
        return self._publish(author, visibility, mentioned)

    def _publish(self, author: str, visibility: str, mentioned: frozenset[str]) -> str:
        mentioned = mentioned - {author}
        data = self.users[author].post_status(self._text(mentioned), visibility=visibility)
        self.model.posts[data["id"]] = Post(
            id=data["id"],
            author=author,
            visibility=visibility,
            mentions=frozenset(mentioned - self.model.suspended),
        )
        return str(data["id"])

    @rule(
        target=posts,
        author=actors,
        parent=posts,
        visibility=st.sampled_from(VISIBILITIES),
        mentioned=st.frozensets(actors, max_size=2),
    )
    def reply(self, author: str, parent: str, visibility: str, mentioned: frozenset[str]) -> Any:
        mentioned = mentioned - {author}
        if not self.active(author) or parent not in self.model.posts:
            return multiple()
        m = self.model
        response = self.users[author].post(
            "/api/v1/statuses",
            json={
                "status": self._text(mentioned),
                "visibility": visibility,
                "in_reply_to_id": parent,
            },
        )
        original = m.posts[parent]
        if not m.visible(author, parent) or original.reblog_of is not None:
            assert response.status_code == 404, response.text
            return multiple()
        assert response.status_code == 200, response.text
        new_id = response.json()["id"]
        m.posts[new_id] = Post(
            id=new_id,
            author=author,
            visibility=visibility,
            mentions=frozenset(mentioned - m.suspended),
            reply_to=parent,
            reply_to_author=original.author,
        )
        return str(new_id)

    @rule(target=posts, who=actors, post_id=posts, visibility=st.sampled_from(VISIBILITIES[:3]))
    def boost(self, who: str, post_id: str, visibility: str) -> Any:
        m = self.model
        if not self.active(who) or post_id not in m.posts:
            return multiple()
        response = self.users[who].post(
            f"/api/v1/statuses/{post_id}/reblog", json={"visibility": visibility}
        )
        if not m.visible(who, post_id):
            assert response.status_code == 404, response.text
            return multiple()
        original_id = m.posts[post_id].reblog_of or post_id
        original = m.posts[original_id]
        # As on Mastodon: a followers-only post may be boosted by its author
        # alone, and that boost stays followers-only; direct posts never.
        own_private = original.visibility == PRIVATE and original.author == who
        if original.visibility not in (PUBLIC, UNLISTED) and not own_private:
            assert response.status_code == 422, response.text
            return multiple()
        assert response.status_code == 200, response.text
        boost_id = str(response.json()["id"])
        if boost_id not in m.posts:
            m.posts[boost_id] = Post(
                id=boost_id,
                author=who,
                visibility=PRIVATE if own_private else visibility,
                reblog_of=original_id,
            )
        return boost_id

    @rule(who=actors, post_id=posts, kind=st.sampled_from(["bookmarks", "favourites"]))
    def save(self, who: str, post_id: str, kind: str) -> None:
        m = self.model
        if not self.active(who) or post_id not in m.posts:
            return
        verb = "bookmark" if kind == "bookmarks" else "favourite"
        response = self.users[who].post(f"/api/v1/statuses/{post_id}/{verb}")
        if not m.visible(who, post_id):
            assert response.status_code == 404
            return
        assert response.status_code == 200, response.text
        original_id = m.posts[post_id].reblog_of or post_id
        saved = (m.bookmarks if kind == "bookmarks" else m.favourites).setdefault(who, [])
        if original_id not in saved:
            saved.append(original_id)

    @rule(who=actors, post_id=posts)
    def delete(self, who: str, post_id: str) -> None:
        m = self.model
        if not self.active(who) or post_id not in m.posts:
            return
        response = self.users[who].delete(f"/api/v1/statuses/{post_id}")
        post = m.posts[post_id]
        if post.author != who or post.reblog_of is not None or post.deleted:
            assert response.status_code == 404
            return
        assert response.status_code == 200, response.text
        post.deleted = True
        for other in m.posts.values():
            if other.reblog_of == post_id:
                other.deleted = True
        for saved in (*m.bookmarks.values(), *m.favourites.values()):
            if post_id in saved:
                saved.remove(post_id)

    # -- what every viewer sees (tests/privacy/observer.py) ----------------

    @invariant()
    def listings_match_the_model(self) -> None:
        if self.users:
            # Run the jobs the last step left (notifications, cached timelines).
            self.roost.drain_jobs()
            self.roost.run(self.observer.check_listings)

    @invariant()
    def single_fetches_answer_404_unless_visible(self) -> None:
        if self.users:
            self.roost.run(self.observer.check_single_fetches)


@pytest.fixture
def fresh(settings: Settings, backend: str, request: pytest.FixtureRequest) -> Iterator[Fresh]:
    template = request.getfixturevalue("sqlite_template") if backend == "sqlite" else None
    url = request.getfixturevalue("postgres_url") if backend == "postgres" else ""
    yield Fresh(settings, backend, template, url)


# Well under a minute on a quiet machine; the margin is for a busy CI box.
@pytest.mark.timeout(900)
def test_given_random_social_graphs_then_every_answer_matches_the_reference_model(
    fresh: Fresh,
) -> None:
    PrivacyMachine.fresh = fresh
    run_state_machine_as_test(
        PrivacyMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
