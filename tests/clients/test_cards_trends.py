"""Mastodon.py reading link cards and trends from a live server: a post's
card arrives from a website (served on 127.0.0.2, the one address the live
server may fetch from), and hashtags, links and posts trend once an
administrator approved them through the admin API."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from tests.cards.site import Site, opengraph, serving
from tests.clients.conftest import PASSWORD, LiveServer, eventually

pytestmark = pytest.mark.clients


@pytest.fixture
def site() -> Iterator[Site]:
    with serving("127.0.0.2") as running:
        yield running


def test_given_a_post_with_a_link_then_mastodon_py_reads_its_card_and_the_trends(
    live_server: LiveServer, site: Site
) -> None:
    stamp = secrets.token_hex(3)
    alice, bob = live_server.people("card_a", "card_b")
    staff_name = f"trendstaff{stamp}"
    made = live_server.roost(
        "accounts", "create", staff_name, "--email", f"{staff_name}@example.org",
        "--password", PASSWORD, "--admin",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    staff = live_server.client(
        live_server.create_token(staff_name, "read write admin:read admin:write")
    )
    site.page("/story", opengraph(f"Herons {stamp}", description="A long read"))
    tag = f"heron{stamp}"
    first = alice.api.status_post(f"read {site.url}/story #{tag}")
    bob.api.status_post(f"me too {site.url}/story #{tag}")

    card = eventually(lambda: alice.api.status(first["id"])["card"])
    assert card["title"] == f"Herons {stamp}" and card["description"] == "A long read"
    assert alice.api.status_card(first["id"])["url"] == site.url + "/story"
    assert site.agents and site.agents[-1].startswith("Roost/")

    assert tag not in [t["name"] for t in alice.api.trending_tags()]
    waiting = {t["name"]: t for t in staff.admin_trending_tags()}
    assert waiting[tag]["requires_review"] is True
    staff.admin_approve_trending_tag(waiting[tag]["id"])
    assert tag in [t["name"] for t in alice.api.trending_tags()]

    links = {link["title"]: link for link in staff.admin_trending_links()}
    staff.admin_approve_trending_link(links[f"Herons {stamp}"]["id"])
    shown = {link["title"]: link for link in alice.api.trending_links()}
    assert int(shown[f"Herons {stamp}"]["history"][0]["accounts"]) == 2

    bob.api.status_favourite(first["id"])
    carol = live_server.people("card_c")[0]
    carol.api.status_favourite(first["id"])
    assert first["id"] in [s["id"] for s in staff.admin_trending_statuses()]
    staff.admin_approve_trending_status(first["id"])
    assert first["id"] in [s["id"] for s in alice.api.trending_statuses()]
