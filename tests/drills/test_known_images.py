"""Drill (threats 14, 26): a known image is never stored where it could be served.

A benign stand-in picture plays the listed image: its PDQ hash is imported as
an operator imports a hotline's list. Then the copies someone makes to slip a
picture past a filter (resized to half, re-encoded as JPEG at quality 50,
lightly cropped, mirrored, mirrored and mirrored back after a resize, turned a
quarter) are each uploaded as a post's media and as an avatar: each is refused
with the same plain 422, no media row is written, no file reaches the media
store, so no URL can ever lead to one; each lands in the quarantine, sealed,
with a report and an audit entry.

Then 1,000 unrelated pictures, generated from seeds, go through the same
check every entry point calls: none may match (the false-positive rate is
printed with the hashing time per picture, for a run with -s), and a sample of
them uploads through the API as usual.
"""

from __future__ import annotations

import time

import pytest
from PIL import Image

from roost.domain.known_images import screening
from roost.media.sniff import PNG
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

pytestmark = pytest.mark.slow

STAND_IN = 17
UNRELATED = 1000
REFUSED = {"error": "Validation failed: the file could not be processed"}


def _variants() -> dict[str, bytes]:
    image = pictures.picture(STAND_IN)
    found = pictures.variants(image)
    found["turned"] = pictures.encoded(image.transpose(Image.Transpose.ROTATE_90))
    return found


def test_given_a_listed_stand_in_when_altered_copies_are_uploaded_then_none_is_stored(
    roost: Roost,
) -> None:
    import_list(roost, "drill-stand-in", pictures.pdq_hex(pictures.png(STAND_IN)) + " stand-in")
    alice = roost.account("alice")
    variants = _variants()
    mime = {b"\xff\xd8": "image/jpeg"}

    for name, data in variants.items():
        kind = mime.get(data[:2], "image/png")
        as_media = alice.post("/api/v2/media", files={"file": (name, data, kind)})
        assert (as_media.status_code, as_media.json()) == (422, REFUSED), name
        as_avatar = alice.patch(
            "/api/v1/accounts/update_credentials", files={"avatar": (name, data, kind)}
        )
        assert (as_avatar.status_code, as_avatar.json()) == (422, REFUSED), name

    assert media_rows(roost) == 0
    assert stored_files(roost) == []
    me = alice.get("/api/v1/accounts/verify_credentials").json()
    assert me["avatar"].endswith("missing.png")
    rows = quarantine_rows(roost)
    assert len(rows) == 2 * len(variants)
    assert all(r.list_name == "drill-stand-in" and r.distance <= 31 for r in rows)
    assert len(reports_about(roost, alice.id)) == len(rows)
    assert audit_actions(roost).count("known_image.refuse") == len(rows)
    distances = {name: r.distance for name, r in zip(variants, rows[::2], strict=True)}
    print(f"\nknown-image drill: distances of the altered copies {distances}")


def test_given_a_list_when_1000_unrelated_pictures_are_checked_then_none_matches(
    roost: Roost,
) -> None:
    import_list(roost, "drill-stand-in", pictures.pdq_hex(pictures.png(STAND_IN)))
    matched: list[int] = []
    spent = 0.0

    async def check(data: bytes) -> bool:
        _, match = await screening.find_image_match(roost.db, roost.settings, data, PNG)
        return match is not None

    for seed in range(100_000, 100_000 + UNRELATED):
        data = pictures.png(seed)
        started = time.perf_counter()
        if roost.run(lambda data=data: check(data)):  # type: ignore[misc]
            matched.append(seed)
        spent += time.perf_counter() - started

    rate = len(matched) / UNRELATED
    print(
        f"\nknown-image drill: {len(matched)} of {UNRELATED} unrelated pictures matched "
        f"(false-positive rate {rate:.2%}); {spent / UNRELATED * 1000:.1f} ms per picture "
        "to check (decode, PDQ in eight orientations, list lookup)"
    )
    assert matched == []
    alice = roost.account("alice")
    for seed in range(100_000, 100_010):
        upload = alice.post(
            "/api/v2/media", files={"file": ("p.png", pictures.png(seed), "image/png")}
        )
        assert upload.status_code == 200, upload.text
    assert quarantine_rows(roost) == [] and media_rows(roost) == 10
