"""GET /api/v1/timelines/link: the public posts sharing a link that trends,
from authors open to discovery; 404 for a link that does not trend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from roost.domain.trends.queries import forget_ranked
from tests.cards.site import Site, opengraph, serving
from tests.conftest import Roost

pytestmark = pytest.mark.settings(outbound_allow_private=True)


@pytest.fixture(autouse=True)
def _fresh_ranking() -> Iterator[None]:
    forget_ranked()
    yield
    forget_ranked()


@pytest.fixture
def site() -> Iterator[Site]:
    with serving() as running:
        yield running


def test_given_a_trending_link_then_its_timeline_shows_the_public_discoverable_posts_sharing_it(
    roost: Roost, site: Site
) -> None:
    staff = roost.account("staff", admin=True, scopes="read write admin:read admin:write")
    alice, bob, carol, dave = (roost.account(n) for n in ("alice", "bob", "carol", "dave"))
    hidden = roost.account("hidden")
    hidden.patch("/api/v1/accounts/update_credentials", json={"discoverable": False})
    site.page("/story", opengraph("The heron story"))
    link = f"{site.url}/story"
    first = alice.post_status(f"read {link}")
    second = bob.post_status(f"this {link}")
    carol.post_status(f"quietly {link}", visibility="unlisted")
    dave.follow(alice)
    dave.post_status(f"for friends {link}", visibility="private")
    hidden.post_status(f"not for discovery {link}")
    alice.post_status("no link here")
    roost.drain_jobs()

    assert roost.client.get("/api/v1/timelines/link", params={"url": link}).status_code == 404
    (waiting,) = staff.get("/api/v1/admin/trends/links").json()
    assert staff.post(f"/api/v1/admin/trends/links/{waiting['id']}/approve").status_code == 200

    shown = roost.client.get("/api/v1/timelines/link", params={"url": link})
    assert shown.status_code == 200, shown.text
    assert [s["id"] for s in shown.json()] == [second["id"], first["id"]]
    assert shown.json()[0]["card"]["title"] == "The heron story"
    paged = roost.client.get("/api/v1/timelines/link", params={"url": link, "limit": 1})
    assert [s["id"] for s in paged.json()] == [second["id"]]
    assert "max_id" in paged.headers["link"]
    # A block hides as everywhere else.
    bob.post(f"/api/v1/accounts/{alice.id}/block")
    as_bob = bob.get("/api/v1/timelines/link", params={"url": link}).json()
    assert [s["id"] for s in as_bob] == [second["id"]]
    missing = roost.client.get("/api/v1/timelines/link", params={"url": site.url + "/other"})
    assert missing.status_code == 404 and "error" in missing.json()
    assert roost.client.get("/api/v1/timelines/link").status_code == 404
