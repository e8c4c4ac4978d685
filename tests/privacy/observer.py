"""What every viewer sees, read through the API and compared with the model.

The state machine in test_policy_machine.py changes the world; this reads it.
The reads run on the app's own event loop through an in-process ASGI client:
hundreds of them per step, without a thread hop for each.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import User
from tests.privacy.model import Model

ACTORS = ("ann", "ben", "cat")


class Observer:
    def __init__(self, app: Any, model: Model, users: dict[str, User]) -> None:
        self.app, self.model, self.users = app, model, users
        self.http: httpx.AsyncClient | None = None
        self.turn = 0

    async def close(self) -> None:
        if self.http is not None:
            await self.http.aclose()

    async def _http(self) -> httpx.AsyncClient:
        if self.http is None:
            transport = httpx.ASGITransport(app=self.app)
            self.http = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        return self.http

    async def _answer(self, viewer: str | None, path: str, **params: Any) -> httpx.Response:
        headers = self.users[viewer].headers if viewer is not None else {}
        response = await (await self._http()).get(path, headers=headers, params=params)
        self._no_leak(viewer, path, response.text)
        return response

    async def _get(self, viewer: str | None, path: str, **params: Any) -> Any:
        response = await self._answer(viewer, path, **params)
        assert response.status_code == 200, (viewer, path, response.text)
        return response.json()

    def _no_leak(self, viewer: str | None, path: str, body: str) -> None:
        allowed = self.model.visible_ids(viewer)
        leaked = {pid for pid in self.model.posts if pid in body and pid not in allowed}
        assert not leaked, f"{path} shows {viewer!r} posts it may not see: {leaked}"

    async def _ids(self, viewer: str | None, path: str, **params: Any) -> list[str]:
        return [item["id"] for item in await self._get(viewer, path, limit=40, **params)]

    def _viewers(self) -> list[str | None]:
        active = (a for a in ACTORS if a not in self.model.suspended)
        return [None, "staff", *active]

    async def check_listings(self) -> None:
        m = self.model
        for viewer in self._viewers():
            assert await self._ids(viewer, "/api/v1/timelines/public") == m.public(viewer)
            if viewer is None:
                # Every post carries #t: the tag timeline is the public one again.
                assert await self._ids(viewer, "/api/v1/timelines/tag/t") == m.public(viewer)
            for account in ACTORS:
                path = f"/api/v1/accounts/{self.users[account].id}/statuses"
                if not m.account_visible(viewer, account):
                    assert (await self._answer(viewer, path)).status_code == 404
                    continue
                shown = await self._ids(viewer, path)
                assert shown == m.profile(viewer, account), (viewer, account)
            every = list(m.posts)
            batch = await self._get(viewer, "/api/v1/statuses", **{"id[]": every})
            assert [s["id"] for s in batch] == [p for p in every if m.visible(viewer, p)]
            if viewer is not None:
                await self._check_own_lists(viewer)

    async def _check_own_lists(self, viewer: str) -> None:
        m = self.model
        assert await self._ids(viewer, "/api/v1/timelines/home") == m.home(viewer), viewer
        assert await self._ids(viewer, "/api/v1/timelines/direct") == m.direct(viewer)
        for kind in ("bookmarks", "favourites"):
            saved = await self._ids(viewer, f"/api/v1/{kind}")
            assert saved == m.saved(viewer, kind), (viewer, kind)
        for note in await self._get(viewer, "/api/v1/notifications", limit=80):
            sender = self._name(note["account"]["id"])
            post = note["status"]["id"] if note["status"] else None
            assert m.notification_allowed(viewer, sender, post), (viewer, note["type"])
        for entry in await self._get(viewer, "/api/v1/conversations", limit=40):
            assert m.visible(viewer, entry["last_status"]["id"])
            for account in entry["accounts"]:
                assert m.listed(viewer, self._name(account["id"]))
        await self._check_graph(viewer)

    async def _check_graph(self, viewer: str) -> None:
        m = self.model
        by_id = {self.users[a].id: a for a in ACTORS}

        async def names(path: str) -> set[str]:
            return {by_id[a["id"]] for a in await self._get(viewer, path)}

        assert await names("/api/v1/follow_requests") == {
            who for (who, target) in m.requests if target == viewer and m.listed(viewer, who)
        }
        assert await names("/api/v1/blocks") == {
            t for (w, t) in m.blocks if w == viewer and m.account_visible(viewer, t)
        }
        assert await names("/api/v1/mutes") == {
            t for t in m.muted_by(viewer) if m.account_visible(viewer, t)
        }
        ids = [self.users[a].id for a in ACTORS]
        rels = await self._get(viewer, "/api/v1/accounts/relationships", **{"id[]": ids})
        assert {by_id[rel["id"]] for rel in rels} == {
            a for a in ACTORS if m.account_visible(viewer, a)
        }
        for rel in rels:
            other = by_id[rel["id"]]
            assert rel["following"] == ((viewer, other) in m.follows)
            assert rel["followed_by"] == ((other, viewer) in m.follows)
            assert rel["requested"] == ((viewer, other) in m.requests)
            assert rel["blocking"] == ((viewer, other) in m.blocks)
            assert rel["blocked_by"] == ((other, viewer) in m.blocks)
            assert rel["muting"] == ((viewer, other) in m.mutes)

    def _name(self, account_id: str) -> str:
        return next(name for name, user in self.users.items() if user.id == account_id)

    async def check_single_fetches(self) -> None:
        # Anonymous every step, and one of the others in turn (the batch route
        # above already checks every post for every viewer on each step).
        self.turn += 1
        others = self._viewers()[1:]
        for viewer in (None, others[self.turn % len(others)]):
            for post_id in self.model.posts:
                response = await self._answer(viewer, f"/api/v1/statuses/{post_id}")
                expected = 200 if self.model.visible(viewer, post_id) else 404
                assert response.status_code == expected, (viewer, post_id, response.text)
