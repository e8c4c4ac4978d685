"""Uploading, attaching and serving media through the Mastodon API."""

from __future__ import annotations

import functools
import io
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from PIL import Image
from sqlalchemy import func, select, update

from roost.clock import utcnow
from roost.db.tables import media_attachments
from roost.domain.media import actions
from roost.media.store import media_store
from tests.conftest import Roost, User
from tests.media import samples


@functools.cache
def _bomb() -> bytes:
    return samples.png_bomb(20_000, 20_000)


def _upload(
    user: User,
    data: bytes,
    name: str,
    mime: str,
    version: int = 2,
    fields: dict[str, str] | None = None,
) -> Any:
    return user.post(
        f"/api/v{version}/media", files={"file": (name, data, mime)}, data=fields or {}
    )


def _uploaded(user: User, data: bytes | None = None, **fields: str) -> dict[str, Any]:
    response = _upload(
        user, data or samples.jpeg_with_gps(), "photo.jpg", "image/jpeg", fields=fields
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _stored_files(roost: Roost) -> list[Path]:
    root = roost.settings.data_dir / "media"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _file_name(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[-1]


def _rows(roost: Roost) -> int:
    async def count() -> int:
        async with roost.db.read() as conn:
            return int(
                (
                    await conn.execute(select(func.count()).select_from(media_attachments))
                ).scalar_one()
            )

    return roost.run(count)


def _fetch(roost: Roost, url: str, **kwargs: Any) -> Any:
    """An app loading a media URL: a plain GET, no Authorization header."""
    return roost.client.get(url, **kwargs)


def test_given_a_photo_with_gps_and_alt_text_when_uploaded_then_served_without_exif(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    media = _uploaded(alice, description="A tower at dusk")
    assert media["type"] == "image"
    assert media["description"] == "A tower at dusk"
    assert media["meta"]["original"]["size"] == "640x480"
    assert media["meta"]["small"]["width"] <= 640
    assert media["blurhash"]
    post = alice.post_status("look", media_ids=[media["id"]])
    shown = post["media_attachments"][0]
    assert shown["id"] == media["id"] and shown["description"] == "A tower at dusk"
    served = _fetch(roost, shown["url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"
    image = Image.open(io.BytesIO(served.content))
    assert dict(image.getexif()) == {} and "exif" not in image.info and "xmp" not in image.info
    assert b"PhoneMaker" not in served.content and b"48,51" not in served.content
    assert _fetch(roost, shown["preview_url"]).status_code == 200


def test_given_a_decompression_bomb_when_uploaded_then_422_and_nothing_stored(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    response = _upload(alice, _bomb(), "small.png", "image/png")
    assert response.status_code == 422
    assert "too many pixels" in response.json()["error"]
    assert _stored_files(roost) == [] and _rows(roost) == 0


def test_given_a_file_that_is_not_what_it_claims_when_uploaded_then_422_and_nothing_stored(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    fake = b"<html><body>not a picture</body></html>" * 10
    response = _upload(alice, fake, "holiday.jpg", "image/jpeg")
    assert response.status_code == 422
    assert "not an image, video or audio file" in response.json()["error"]
    # Starts like a JPEG, is not one.
    broken = _upload(alice, samples.jpeg_with_gps()[:400], "photo.jpg", "image/jpeg")
    assert broken.status_code == 422 and "not a readable JPG" in broken.json()["error"]
    assert _stored_files(roost) == [] and _rows(roost) == 0


@pytest.mark.settings(media_max_image_bytes=20_000)
def test_given_an_image_over_the_size_limit_when_uploaded_then_422_and_nothing_stored(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    response = _upload(alice, samples.jpeg_with_gps(), "photo.jpg", "image/jpeg")
    assert response.status_code == 422
    assert "image files may be at most" in response.json()["error"]
    assert _stored_files(roost) == [] and _rows(roost) == 0


@pytest.mark.settings(media_max_video_bytes=10_000, media_max_image_bytes=10_000)
def test_given_a_body_larger_than_any_limit_then_refused_before_reading_it(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    response = _upload(alice, b"\0" * 200_000, "big.mp4", "video/mp4")
    assert response.status_code == 422 and "larger than" in response.json()["error"]
    assert _rows(roost) == 0


def test_given_five_uploads_when_posted_together_then_422_and_four_are_fine(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    ids = [_uploaded(alice, samples.png(20 + i, 20))["id"] for i in range(5)]
    refused = alice.post("/api/v1/statuses", json={"status": "five", "media_ids": ids})
    assert refused.status_code == 422 and "at most 4" in refused.json()["error"]
    post = alice.post_status("four", media_ids=ids[:4])
    assert [m["id"] for m in post["media_attachments"]] == ids[:4]
    # The fifth is still the author's unattached upload; the others are taken.
    assert alice.get(f"/api/v1/media/{ids[4]}").status_code == 200
    assert alice.get(f"/api/v1/media/{ids[0]}").status_code == 404


def test_given_someone_elses_upload_when_attached_then_422(roost: Roost) -> None:
    alice, mallory = roost.account("alice"), roost.account("mallory")
    media = _uploaded(alice)
    response = mallory.post("/api/v1/statuses", json={"status": "x", "media_ids": [media["id"]]})
    assert response.status_code == 422 and "not yours" in response.json()["error"]


def test_given_only_media_when_posted_without_text_then_accepted(roost: Roost) -> None:
    alice = roost.account("alice")
    media = _uploaded(alice)
    post = alice.post_status("", media_ids=[media["id"]])
    assert post["content"] == "" and len(post["media_attachments"]) == 1


def test_given_media_of_a_direct_post_when_a_stranger_asks_then_404(roost: Roost) -> None:
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    media = _uploaded(alice)
    post = alice.post_status("@bob for you", visibility="direct", media_ids=[media["id"]])
    mine = post["media_attachments"][0]["url"]
    plain = mine.split("?")[0]
    # Bob, mentioned, is given his own URL, and his app loads it without a token.
    bobs = bob.get(f"/api/v1/statuses/{post['id']}").json()["media_attachments"][0]["url"]
    assert bobs != mine and f"viewer={bob.id}" in bobs
    assert _fetch(roost, bobs).status_code == 200
    # Carol, a stranger: not anonymously, not with her token, not by forging.
    assert carol.get(f"/api/v1/statuses/{post['id']}").status_code == 404
    assert _fetch(roost, plain).status_code == 404
    assert carol.get(plain).status_code == 404
    assert carol.get(mine).status_code == 404  # her token speaks for her, not Alice
    forged = bobs.replace(f"viewer={bob.id}", f"viewer={carol.id}")
    assert _fetch(roost, forged).status_code == 404
    tampered = bobs[:-3] + ("AAA" if not bobs.endswith("AAA") else "BBB")
    assert _fetch(roost, tampered).status_code == 404
    other_file = plain.rsplit("/", 1)[0] + "/" + "0" * 64 + ".jpg"
    assert _fetch(roost, other_file).status_code == 404


def test_given_a_followers_only_post_when_the_follower_leaves_then_their_url_stops_working(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    bob.follow(alice)
    media = _uploaded(alice)
    post = alice.post_status("friends", visibility="private", media_ids=[media["id"]])
    url = bob.get(f"/api/v1/statuses/{post['id']}").json()["media_attachments"][0]["url"]
    served = _fetch(roost, url)
    assert served.status_code == 200 and served.headers["cache-control"].startswith("private")
    assert bob.post(f"/api/v1/accounts/{alice.id}/unfollow").status_code == 200
    assert _fetch(roost, url).status_code == 404


def test_given_public_media_then_anyone_may_load_it_and_caches_may_keep_it(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    media = _uploaded(alice)
    post = alice.post_status("public", media_ids=[media["id"]])
    url = post["media_attachments"][0]["url"]
    assert "?" not in url
    served = _fetch(roost, url)
    assert served.status_code == 200 and served.headers["cache-control"].startswith("public")
    assert roost.client.head(url).status_code == 200


def test_given_an_unattached_upload_then_only_its_uploader_may_load_it(roost: Roost) -> None:
    alice, carol = roost.account("alice"), roost.account("carol")
    media = _uploaded(alice)
    assert f"viewer={alice.id}" in media["url"]
    assert _fetch(roost, media["url"]).status_code == 200
    assert _fetch(roost, media["url"].split("?")[0]).status_code == 404
    assert carol.get(media["url"].split("?")[0]).status_code == 404
    assert carol.get(f"/api/v1/media/{media['id']}").status_code == 404


def test_given_alt_text_and_focus_when_updated_then_shown_and_limits_hold(roost: Roost) -> None:
    alice = roost.account("alice")
    media = _uploaded(alice)
    changed = alice.put(
        f"/api/v1/media/{media['id']}", data={"description": "Now described", "focus": "0.5,-0.25"}
    )
    assert changed.status_code == 200
    assert changed.json()["description"] == "Now described"
    assert changed.json()["meta"]["focus"] == {"x": 0.5, "y": -0.25}
    too_long = alice.put(f"/api/v1/media/{media['id']}", json={"description": "d" * 1501})
    assert too_long.status_code == 422 and "1500" in too_long.json()["error"]
    off_image = alice.put(f"/api/v1/media/{media['id']}", json={"focus": "2,0"})
    assert off_image.status_code == 422
    exactly = alice.put(f"/api/v1/media/{media['id']}", json={"description": "d" * 1500})
    assert exactly.status_code == 200


def test_given_a_posted_photo_when_its_post_is_edited_with_media_attributes_then_alt_text_changes(
    roost: Roost,
) -> None:
    """PUT /api/v1/statuses/:id takes ``media_attributes[][id|description|focus]``
    as a form (Rails' arrays of records) and as JSON (Mastodon.py's way)."""
    alice = roost.account("alice")
    first, second = _uploaded(alice, samples.png(30, 30)), _uploaded(alice, samples.png(40, 40))
    post = alice.post_status("two photos", media_ids=[first["id"], second["id"]])
    path = f"/api/v1/statuses/{post['id']}"

    form = [
        ("status", "two photos, described"),
        ("media_ids[]", first["id"]),
        ("media_ids[]", second["id"]),
        ("media_attributes[][id]", first["id"]),
        ("media_attributes[][description]", "A red square"),
        ("media_attributes[][focus]", "0.5,-0.25"),
        ("media_attributes[][id]", second["id"]),
        ("media_attributes[][description]", "A blue square"),
        ("media_attributes[][focus]", "-1,1"),
    ]
    by_form = roost.client.put(
        path,
        content=urlencode(form),
        headers={**alice.headers, "Content-Type": "application/x-www-form-urlencoded"},
    )

    assert by_form.status_code == 200, by_form.text
    shown = {m["id"]: m for m in by_form.json()["media_attachments"]}
    assert shown[first["id"]]["description"] == "A red square"
    assert shown[first["id"]]["meta"]["focus"] == {"x": 0.5, "y": -0.25}
    assert shown[second["id"]]["description"] == "A blue square"
    assert shown[second["id"]]["meta"]["focus"] == {"x": -1.0, "y": 1.0}

    by_json = alice.put(
        path,
        json={
            "status": "two photos, described again",
            "media_ids": [first["id"], second["id"]],
            "media_attributes": [{"id": second["id"], "description": "Blue", "focus": "0,0"}],
        },
    )

    assert by_json.status_code == 200, by_json.text
    read = {m["id"]: m for m in alice.get(path).json()["media_attachments"]}
    assert read[first["id"]]["description"] == "A red square"
    assert read[second["id"]]["description"] == "Blue"
    assert read[second["id"]]["meta"]["focus"] == {"x": 0.0, "y": 0.0}


def test_given_media_attributes_that_do_not_fit_when_a_post_is_edited_then_422_and_nothing_changes(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    mine = _uploaded(alice, samples.png(30, 30))
    elsewhere = _uploaded(alice, samples.png(40, 40))
    post = alice.post_status("one photo", media_ids=[mine["id"]])
    path = f"/api/v1/statuses/{post['id']}"
    attempts = [
        [{"id": elsewhere["id"], "description": "not on this post"}],
        [{"id": mine["id"], "description": "d" * 1501}],
        [{"id": mine["id"], "focus": "3,0"}],
        [{"description": "no id"}],
    ]
    for attributes in attempts:
        response = alice.put(path, json={"status": "changed", "media_attributes": attributes})
        assert response.status_code == 422, response.text
    after = alice.get(path).json()
    assert "one photo" in after["content"] and after["edited_at"] is None
    assert after["media_attachments"][0]["description"] is None


def test_given_audio_on_v2_then_202_while_processing_and_200_once_done(roost: Roost) -> None:
    alice = roost.account("alice")
    response = _upload(alice, samples.mp3(), "song.mp3", "audio/mpeg")
    assert response.status_code == 202
    media = response.json()
    assert media["type"] == "audio" and media["url"] is None
    assert alice.get(f"/api/v1/media/{media['id']}").status_code == 206
    refused = alice.post("/api/v1/statuses", json={"status": "x", "media_ids": [media["id"]]})
    assert refused.status_code == 422 and "processing" in refused.json()["error"]
    roost.drain_jobs()
    done = alice.get(f"/api/v1/media/{media['id']}")
    assert done.status_code == 200 and done.json()["url"]
    served = _fetch(roost, done.json()["url"])
    assert served.headers["content-type"] == "audio/mpeg"
    assert b"Secret title" not in served.content
    assert alice.post_status("a song", media_ids=[media["id"]])["media_attachments"]


def test_given_a_video_on_v1_then_ready_at_once_and_served_in_ranges(roost: Roost) -> None:
    alice = roost.account("alice")
    response = _upload(alice, samples.mp4(payload=8192), "clip.mp4", "video/mp4", version=1)
    assert response.status_code == 200
    media = response.json()
    assert media["type"] == "video" and media["url"]
    post = alice.post_status("a clip", media_ids=[media["id"]])
    url = post["media_attachments"][0]["url"]
    whole = _fetch(roost, url)
    assert whole.headers["content-type"] == "video/mp4"
    assert samples.LOCATION not in whole.content
    part = _fetch(roost, url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{len(whole.content)}"
    assert part.content == whole.content[100:200]


def test_given_a_phone_video_on_v2_when_processed_then_poster_blurhash_duration_no_location(
    roost: Roost, tmp_path: Path
) -> None:
    """With nothing but the locked environment (no ffmpeg on the machine), a
    video gets what apps show: a poster frame with its blurhash, a duration,
    and a file without the place it was shot."""
    alice = roost.account("alice")
    video = samples.phone_video(tmp_path / "clip.mp4").read_bytes()
    response = _upload(alice, video, "clip.mp4", "video/mp4")
    assert response.status_code == 202, response.text
    roost.drain_jobs()

    done = alice.get(f"/api/v1/media/{response.json()['id']}")
    assert done.status_code == 200
    media = done.json()
    assert media["type"] == "video" and media["blurhash"]
    assert 1.9 < media["meta"]["original"]["duration"] < 2.2
    assert media["meta"]["original"]["width"] == 320 and media["meta"]["fps"] == 10
    served = _fetch(roost, media["url"])
    assert served.status_code == 200 and served.headers["content-type"] == "video/mp4"
    assert samples.LOCATION not in served.content and b"Secret title" not in served.content
    poster = _fetch(roost, media["preview_url"])
    assert poster.status_code == 200 and poster.headers["content-type"].startswith("image/")
    assert Image.open(io.BytesIO(poster.content)).size == (
        media["meta"]["small"]["width"],
        media["meta"]["small"]["height"],
    )


def test_given_a_deleted_post_then_its_media_wait_for_a_redraft_then_go(roost: Roost) -> None:
    alice = roost.account("alice")
    media = _uploaded(alice)
    post = alice.post_status("first draft", media_ids=[media["id"]])
    url = post["media_attachments"][0]["url"]
    deleted = alice.delete(f"/api/v1/statuses/{post['id']}")
    assert deleted.json()["media_attachments"][0]["id"] == media["id"]
    assert _fetch(roost, url).status_code == 404  # no post: its uploader's alone
    redraft = alice.post_status("second draft", media_ids=[media["id"]])
    assert redraft["media_attachments"][0]["id"] == media["id"]


@pytest.mark.parametrize("as_json", [False, True], ids=["query", "json"])
def test_given_a_post_deleted_with_delete_media_then_its_media_and_files_go_at_once(
    roost: Roost, as_json: bool
) -> None:
    """``delete_media=true`` (Mastodon 4.4): no day of grace for a redraft."""
    alice = roost.account("alice")
    media = _uploaded(alice, samples.png(30, 30))
    kept = _uploaded(alice, samples.png(40, 40))
    post = alice.post_status("gone for good", media_ids=[media["id"]])
    other = alice.post_status("stays", media_ids=[kept["id"]])
    path = f"/api/v1/statuses/{post['id']}"

    if as_json:
        deleted = roost.client.request(
            "DELETE", path, json={"delete_media": True}, headers=alice.headers
        )
    else:
        deleted = alice.delete(path, params={"delete_media": "true"})
    roost.drain_jobs()

    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["media_attachments"][0]["id"] == media["id"]
    assert alice.get(f"/api/v1/media/{media['id']}").status_code == 404
    redraft = alice.post("/api/v1/statuses", json={"status": "x", "media_ids": [media["id"]]})
    assert redraft.status_code == 422
    names = {path.name for path in _stored_files(roost)}
    assert _file_name(media["url"]) not in names
    assert _file_name(media["preview_url"]) not in names
    assert _file_name(kept["url"]) in names
    assert _rows(roost) == 1
    assert alice.get(f"/api/v1/statuses/{other['id']}").json()["media_attachments"]


def test_given_uploads_never_posted_when_a_day_has_passed_then_swept_with_their_files(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    posted = _uploaded(alice, samples.png(30, 30))
    alice.post_status("kept", media_ids=[posted["id"]])
    orphan = _uploaded(alice, samples.png(40, 40))
    fresh = _uploaded(alice, samples.png(50, 50))

    async def age_and_sweep() -> int:
        async with roost.db.write() as tx:
            await tx.execute(
                update(media_attachments)
                .where(media_attachments.c.id == int(orphan["id"]))
                .values(expires_at=utcnow() - actions.UNATTACHED_LIFETIME)
            )
        return await actions.sweep_unattached(roost.db, media_store(roost.settings))

    assert roost.run(age_and_sweep) == 1
    assert alice.get(f"/api/v1/media/{orphan['id']}").status_code == 404
    assert alice.get(f"/api/v1/media/{fresh['id']}").status_code == 200
    names = {path.name for path in _stored_files(roost)}
    assert _file_name(orphan["url"]) not in names
    assert {_file_name(fresh["url"]), _file_name(posted["url"])} <= names
    assert _rows(roost) == 2


def test_given_identical_uploads_then_one_file_is_kept_until_both_are_gone(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    first, second = _uploaded(alice), _uploaded(alice)
    assert first["id"] != second["id"]
    assert len(_stored_files(roost)) == len(
        {_file_name(first["url"]), _file_name(first["preview_url"])}
    )
    assert _file_name(first["url"]) == _file_name(second["url"])
    assert alice.delete(f"/api/v1/media/{first['id']}").status_code == 200
    assert _fetch(roost, second["url"]).status_code == 200
    assert alice.delete(f"/api/v1/media/{second['id']}").status_code == 200
    assert _stored_files(roost) == []


def test_given_an_avatar_and_header_when_set_then_served_and_removable(roost: Roost) -> None:
    alice = roost.account("alice")
    response = alice.patch(
        "/api/v1/accounts/update_credentials",
        data={"display_name": "Alice"},
        files={
            "avatar": ("me.jpg", samples.jpeg_with_gps(600, 300), "image/jpeg"),
            "header": ("banner.png", samples.png(1600, 600, "RGB"), "image/png"),
        },
    )
    assert response.status_code == 200, response.text
    me = response.json()
    assert me["display_name"] == "Alice"
    assert "/media/profile/" in me["avatar"] and me["avatar_static"] == me["avatar"]
    avatar = _fetch(roost, me["avatar"])
    assert avatar.status_code == 200
    image = Image.open(io.BytesIO(avatar.content))
    assert image.size == (400, 400) and dict(image.getexif()) == {}
    header = Image.open(io.BytesIO(_fetch(roost, me["header"]).content))
    assert header.size == (1500, 500)
    cleared = alice.delete("/api/v1/profile/avatar").json()
    assert cleared["avatar"].endswith("/avatars/original/missing.png")
    assert _fetch(roost, me["avatar"]).status_code == 404


def test_given_a_video_as_avatar_then_422(roost: Roost) -> None:
    alice = roost.account("alice")
    response = alice.patch(
        "/api/v1/accounts/update_credentials",
        files={"avatar": ("me.mp4", samples.mp4(), "video/mp4")},
    )
    assert response.status_code == 422 and "must be an image" in response.json()["error"]


def test_given_posts_with_and_without_media_when_only_media_asked_then_media_posts(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    alice.post_status("words only")
    with_media = alice.post_status("a picture", media_ids=[_uploaded(alice)["id"]])
    profile = alice.get(f"/api/v1/accounts/{alice.id}/statuses", params={"only_media": "true"})
    assert [s["id"] for s in profile.json()] == [with_media["id"]]
    public = roost.client.get("/api/v1/timelines/public", params={"only_media": "true"})
    assert [s["id"] for s in public.json()] == [with_media["id"]]


def test_given_the_instance_when_asked_then_media_limits_and_types_are_listed(
    roost: Roost,
) -> None:
    config = roost.client.get("/api/v2/instance").json()["configuration"]["media_attachments"]
    assert "image/jpeg" in config["supported_mime_types"]
    assert "video/mp4" in config["supported_mime_types"]
    assert "audio/mpeg" in config["supported_mime_types"]
    assert config["image_size_limit"] == 16 * 1024 * 1024
    assert config["video_size_limit"] == 100 * 1024 * 1024
    assert config["description_limit"] == 1500


def test_given_an_upload_without_a_token_then_401(roost: Roost) -> None:
    response = roost.client.post(
        "/api/v2/media", files={"file": ("p.png", samples.png(), "image/png")}
    )
    assert response.status_code == 401
