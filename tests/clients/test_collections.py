"""Mastodon.py and collections: create, feature with consent, read, change, delete.

Collections are Mastodon 4.6; Roost reports 4.5, so the version check is off.
"""

from __future__ import annotations

import pytest
from mastodon import Mastodon, MastodonAPIError

from tests.clients.conftest import LiveServer

pytestmark = [pytest.mark.clients, pytest.mark.timeout(120)]


def test_given_mastodon_py_when_an_account_is_featured_then_it_waits_for_consent(
    live_server: LiveServer,
) -> None:
    alice, bob, carol = live_server.people("curator", "featured", "reader")

    def newer(token: str) -> Mastodon:
        return Mastodon(access_token=token, api_base_url=live_server.url, version_check_mode="none")

    owner, featured, reader = newer(alice.token), newer(bob.token), newer(carol.token)

    made = owner.collection_create("Gardeners", description="green thumbs", tag_name="#garden")
    collection = made["collection"]
    item = owner.collection_item_add(collection, bob.id)["collection_item"]
    assert item["state"] == "pending"
    assert reader.collection(collection["id"])["collection"]["items"] == []
    assert [c["id"] for c in featured.account_in_collections(None)["collections"]] == [
        collection["id"]
    ]

    featured.collection_item_revoke(collection["id"], item["id"])
    seen = owner.collection(collection["id"])["collection"]["items"]
    assert [i["state"] for i in seen] == ["rejected"]
    with pytest.raises(MastodonAPIError):
        reader.collection_update(collection["id"], name="mine now")

    changed = owner.collection_update(collection["id"], name="Growers", sensitive=True)
    assert changed["collection"]["name"] == "Growers"
    listed = reader.account_collections(alice.id, limit=5)["collections"]
    assert [c["name"] for c in listed] == ["Growers"]
    owner.collection_item_delete(collection["id"], item["id"])
    owner.collection_delete(collection["id"])
    assert reader.account_collections(alice.id)["collections"] == []
