"""Mastodon.py through the rest of what apps use: media, search, lists, filters, markers."""

from __future__ import annotations

import io

import pytest
import requests
from PIL import Image

from tests.clients.conftest import LiveServer, eventually
from tests.media.samples import jpeg_with_gps

pytestmark = [pytest.mark.clients, pytest.mark.timeout(120)]


def test_given_a_phone_photo_when_uploaded_with_alt_text_then_served_without_its_location(
    live_server: LiveServer,
) -> None:
    (alice,) = live_server.people("photographer")
    media = alice.api.media_post(
        io.BytesIO(jpeg_with_gps()),
        mime_type="image/jpeg",
        description="a tower at dusk",
        file_name="IMG_0001.jpg",
    )
    post = alice.api.status_post("holiday", media_ids=[media["id"]])
    attached = post["media_attachments"][0]
    assert attached["description"] == "a tower at dusk"
    served = requests.get(attached["url"], timeout=10)
    assert served.status_code == 200
    image = Image.open(io.BytesIO(served.content))
    assert not image.getexif(), "the served file still carries EXIF"
    assert b"GPS" not in served.content


def test_given_posts_lists_filters_and_markers_then_mastodon_py_uses_them(
    live_server: LiveServer,
) -> None:
    alice, bob, carol = live_server.people("reader", "friend", "stranger")
    alice.api.account_follow(bob.id)
    alice.api.account_follow(carol.id)
    mine = alice.api.status_post("a zanzibarine word to find later")
    found = eventually(
        lambda: alice.api.search_v2("zanzibarine", result_type="statuses")["statuses"] or None
    )
    assert [s["id"] for s in found] == [mine["id"]]

    close = alice.api.list_create("close friends")
    alice.api.list_accounts_add(close["id"], [bob.id])
    by_bob = bob.api.status_post("for the list")
    carol.api.status_post("not for the list")
    listed = eventually(lambda: alice.api.timeline_list(close["id"]) or None)
    assert [s["id"] for s in listed] == [by_bob["id"]]

    alice.api.create_filter_v2(
        "spoilers",
        ["home"],
        "hide",
        keywords_attributes=[{"keyword": "finale", "whole_word": True}],
    )
    hidden = bob.api.status_post("the finale!")
    shown = bob.api.status_post("the final word")
    home = [s["id"] for s in alice.api.timeline_home()]
    assert shown["id"] in home and hidden["id"] not in home

    alice.api.markers_set(["home"], [shown["id"]])
    assert str(alice.api.markers_get("home")["home"]["last_read_id"]) == str(shown["id"])
