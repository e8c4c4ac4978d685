"""Uploads, profile images and emoji checked against the known-image lists:
a match is refused with a plain 422, quarantined sealed, reported, audited."""

from __future__ import annotations

import hashlib

import pytest

from roost.domain.audit.chain import CONSOLE
from roost.domain.emojis import actions as emoji_actions
from roost.domain.known_images import quarantine
from roost.errors import Invalid
from tests.conftest import Roost
from tests.known_images import pictures
from tests.known_images.support import (
    audit_actions,
    import_list,
    media_rows,
    quarantine_rows,
    reports_about,
    stored_files,
)
from tests.media import samples

# What a damaged file is told too (RuleBroken, as Mastodon words a failed validation).
REFUSED = {"error": "Validation failed: the file could not be processed"}


def _upload(user: object, data: bytes, name: str = "p.png", mime: str = "image/png") -> object:
    return user.post("/api/v2/media", files={"file": (name, data, mime)})  # type: ignore[attr-defined]


def test_given_a_listed_picture_when_uploaded_then_422_quarantined_reported_and_audited(
    roost: Roost,
) -> None:
    listed = pictures.png(17)
    import_list(roost, "stand-in", f"{pictures.pdq_hex(listed)} case 1\n")
    alice = roost.account("alice")

    response = _upload(alice, listed)

    assert response.status_code == 422  # type: ignore[attr-defined]
    assert response.json() == REFUSED  # type: ignore[attr-defined]
    assert media_rows(roost) == 0 and stored_files(roost) == []
    [row] = quarantine_rows(roost)
    assert row.account_id == int(alice.id) and row.origin == "media" and row.distance == 0
    assert row.list_name == "stand-in" and row.label == "case 1"
    assert row.sha256 == hashlib.sha256(listed).hexdigest()
    assert listed not in bytes(row.sealed) and len(row.sealed) == len(listed) + 28
    [report] = reports_about(roost, alice.id)
    assert report.category == "legal" and report.id == row.report_id
    assert "known_image.refuse" in audit_actions(roost)


def test_given_a_listed_picture_when_staff_open_it_then_the_same_bytes_and_an_audit_entry(
    roost: Roost,
) -> None:
    listed = pictures.png(17)
    import_list(roost, "stand-in", pictures.pdq_hex(listed))
    alice = roost.account("alice")
    assert _upload(alice, listed).status_code == 422  # type: ignore[attr-defined]
    [row] = quarantine_rows(roost)

    async def open_it() -> bytes:
        async with roost.db.write() as tx:
            item, data = await quarantine.do_open(tx, CONSOLE, row.id)
        assert item.id == row.id
        return data

    assert roost.run(open_it) == listed
    assert audit_actions(roost)[-1] == "known_image.open"


def test_given_a_list_when_an_unrelated_picture_is_uploaded_then_it_is_accepted(
    roost: Roost,
) -> None:
    import_list(roost, "stand-in", pictures.pdq_hex(pictures.png(17)))
    alice = roost.account("alice")
    response = _upload(alice, pictures.png(18))
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    assert quarantine_rows(roost) == [] and reports_about(roost, alice.id) == []


def test_given_a_listed_picture_when_set_as_avatar_or_header_then_422_and_unchanged(
    roost: Roost,
) -> None:
    listed = pictures.picture(17)
    import_list(roost, "stand-in", pictures.pdq_hex(pictures.encoded(listed)))
    alice = roost.account("alice")
    for role in ("avatar", "header"):
        response = alice.patch(
            "/api/v1/accounts/update_credentials",
            files={role: ("me.jpg", pictures.encoded(listed, "JPEG", quality=50), "image/jpeg")},
        )
        assert response.status_code == 422, response.text
        assert response.json() == REFUSED
    me = alice.get("/api/v1/accounts/verify_credentials").json()
    assert me["avatar"].endswith("missing.png") and stored_files(roost) == []
    assert [r.origin for r in quarantine_rows(roost)] == ["avatar", "header"]


def test_given_a_sha256_list_when_a_listed_video_is_uploaded_then_422_and_quarantined(
    roost: Roost,
) -> None:
    video = samples.mp4()
    import_list(roost, "videos", hashlib.sha256(video).hexdigest(), kind="sha256")
    alice = roost.account("alice")
    response = _upload(alice, video, "v.mp4", "video/mp4")
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert response.json() == REFUSED  # type: ignore[attr-defined]
    assert media_rows(roost) == 0 and stored_files(roost) == []
    [row] = quarantine_rows(roost)
    assert row.content_type == "video/mp4" and row.list_name == "videos"
    other = _upload(alice, samples.mp4(payload=5000), "w.mp4", "video/mp4")
    assert other.status_code in (200, 202), other.text  # type: ignore[attr-defined]


def test_given_a_listed_picture_when_added_as_emoji_then_refused_and_not_stored(
    roost: Roost,
) -> None:
    small = pictures.png(17, (256, 192))
    import_list(roost, "stand-in", pictures.pdq_hex(small))

    async def add() -> None:
        await emoji_actions.screen(roost.db, roost.settings, small, None)

    with pytest.raises(Invalid, match="could not be processed"):
        roost.run(add)
    [row] = quarantine_rows(roost)
    assert row.origin == "emoji" and row.account_id is None and row.report_id is None
    assert stored_files(roost) == []
