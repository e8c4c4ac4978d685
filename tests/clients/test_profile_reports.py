"""Mastodon.py and the methods an app uses around its own profile and posts:
the Profile API, deleting the avatar and header, media in edit history,
translation (refused as Mastodon refuses it without a service), annual
reports and async refreshes."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
import requests
from mastodon import Mastodon, MastodonNotFoundError

from tests.clients.conftest import LiveServer
from tests.media import samples

pytestmark = [pytest.mark.clients, pytest.mark.timeout(120)]


def test_given_an_avatar_and_header_when_mastodon_py_deletes_them_then_the_defaults(
    live_server: LiveServer,
) -> None:
    (alice,) = live_server.people("pictured")
    me = alice.api.account_update_credentials(
        avatar=samples.png(),
        avatar_mime_type="image/png",
        header=samples.png(),
        header_mime_type="image/png",
    )
    assert requests.get(me["avatar"], timeout=10).status_code == 200

    without_avatar = alice.api.account_delete_avatar()
    without_header = alice.api.account_delete_header()

    assert without_avatar["avatar"].endswith("/avatars/original/missing.png")
    assert without_header["header"].endswith("/headers/original/missing.png")
    assert requests.get(me["avatar"], timeout=10).status_code == 404
    # The Profile API is Mastodon 4.6; Roost reports 4.5, so the check is off here.
    newer = Mastodon(
        access_token=alice.token, api_base_url=live_server.url, version_check_mode="none"
    )
    profile = newer.profile()
    assert profile["avatar"] is None and profile["header"] is None
    assert newer.profile_update(note="tomatoes")["note"] == "tomatoes"


def test_given_an_edit_that_swaps_the_picture_then_mastodon_py_reads_each_versions_media(
    live_server: LiveServer,
) -> None:
    (alice,) = live_server.people("gardener")
    first = alice.api.media_post(io.BytesIO(samples.png(30, 30)), mime_type="image/png")
    second = alice.api.media_post(io.BytesIO(samples.png(40, 40)), mime_type="image/png")
    post = alice.api.status_post("my garden", media_ids=[first["id"]])

    alice.api.status_update(post, "my garden, later", media_ids=[second["id"]])

    history = alice.api.status_history(post)
    assert [[m["id"] for m in v["media_attachments"]] for v in history] == [
        [first["id"]],
        [second["id"]],
    ]


def test_given_no_translation_service_then_mastodon_py_gets_not_found(
    live_server: LiveServer,
) -> None:
    alice, bob = live_server.people("speaker", "listener")
    post = alice.api.status_post("bonjour", language="fr")

    with pytest.raises(MastodonNotFoundError):
        bob.api.status_translate(post, lang="en")
    assert bob.api.instance_translation_languages() == {}


def test_given_no_report_yet_then_mastodon_py_lists_none_and_knows_no_refresh(
    live_server: LiveServer,
) -> None:
    (alice,) = live_server.people("reporter")

    reports = alice.api.annual_reports()

    assert reports["annual_reports"] == []
    with pytest.raises(MastodonNotFoundError):
        alice.api.annual_report(datetime.now(UTC).year)
    with pytest.raises(MastodonNotFoundError):
        alice.api.get_async_refresh_status("unknown")
