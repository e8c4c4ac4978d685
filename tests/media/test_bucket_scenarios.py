"""Media kept in an S3-compatible bucket (ROOST_MEDIA_STORE=s3), through the API.

Against a real server (SeaweedFS, tests/s3_server.py), on every database backend:
uploads land in the bucket and not on this server's disk, Roost still decides
who may load each file (the bucket is never opened to clients), deletions and
erasures remove the objects, and backups list the objects and verify them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from roost.app import create_app
from roost.config import Settings
from roost.erasure.erase import erase_account
from roost.media.s3 import S3MediaStore
from roost.media.store import media_store
from roost.ops.backup import create_backup
from roost.ops.doctor import FAIL, OK, check_media_store
from roost.ops.errors import BackupDamaged
from roost.ops.verify import verify_backup
from roost.services import Services
from tests.conftest import Roost, User
from tests.media import samples
from tests.s3_server import S3Server, bucket_keys, plain_get


def bucket_settings(settings: Settings, server: S3Server, bucket: str) -> Settings:
    values = server.settings_for(bucket)
    values["s3_secret_key"] = SecretStr(values["s3_secret_key"])
    return settings.model_copy(update={**values, "run_jobs_in_process": False})


@pytest.fixture
def roost(settings: Settings, s3_server: S3Server, s3_bucket: str) -> Iterator[Roost]:
    app = create_app(bucket_settings(settings, s3_server, s3_bucket))
    with TestClient(app) as client:
        yield Roost(client, app.state.services.settings)


def _uploaded(user: User, data: bytes | None = None) -> dict[str, Any]:
    response = user.post(
        "/api/v2/media", files={"file": ("photo.png", data or samples.png(24, 24), "image/png")}
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _key(url: str) -> str:
    name = url.split("?")[0].rsplit("/", 1)[-1]
    return f"{name[:2]}/{name[2:4]}/{name}"


def _disk_files(roost: Roost) -> list[Path]:
    root = roost.settings.data_dir / "media"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_given_a_bucket_when_media_uploaded_then_it_lands_there_and_not_on_disk(
    roost: Roost, s3_server: S3Server, s3_bucket: str
) -> None:
    alice = roost.account("alice")

    media = _uploaded(alice)

    keys = bucket_keys(roost.settings)
    assert {_key(media["url"]), _key(media["preview_url"])} <= keys
    assert _disk_files(roost) == []
    # The bucket itself answers nobody without the credentials.
    assert plain_get(f"{s3_server.endpoint}/{s3_bucket}/{_key(media['url'])}") == 403


def test_given_public_media_in_a_bucket_then_anyone_may_load_it(roost: Roost) -> None:
    alice = roost.account("alice")
    data = samples.png(30, 20)
    media = _uploaded(alice, data)
    post = alice.post_status("public", media_ids=[media["id"]])
    url = post["media_attachments"][0]["url"]

    served = roost.client.get(url)

    assert "?" not in url
    assert served.status_code == 200 and served.headers["cache-control"].startswith("public")
    assert served.headers["content-type"] == "image/png"
    assert roost.client.get(post["media_attachments"][0]["preview_url"]).status_code == 200


def test_given_followers_only_media_in_a_bucket_then_a_follower_sees_it_and_a_stranger_not(
    roost: Roost,
) -> None:
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    bob.follow(alice)
    media = _uploaded(alice)
    post = alice.post_status("friends only", visibility="private", media_ids=[media["id"]])

    bobs = bob.get(f"/api/v1/statuses/{post['id']}").json()["media_attachments"][0]["url"]
    plain = bobs.split("?")[0]

    assert roost.client.get(bobs).status_code == 200
    assert roost.client.get(plain).status_code == 404
    assert carol.get(plain).status_code == 404
    forged = bobs.replace(f"viewer={bob.id}", f"viewer={carol.id}")
    assert roost.client.get(forged).status_code == 404
    assert bob.post(f"/api/v1/accounts/{alice.id}/unfollow").status_code == 200
    assert roost.client.get(bobs).status_code == 404


def test_given_a_video_in_a_bucket_then_served_in_ranges(roost: Roost) -> None:
    alice = roost.account("alice")
    response = alice.post(
        "/api/v1/media", files={"file": ("clip.mp4", samples.mp4(payload=8192), "video/mp4")}
    )
    assert response.status_code == 200, response.text
    post = alice.post_status("a clip", media_ids=[response.json()["id"]])
    url = post["media_attachments"][0]["url"]

    whole = roost.client.get(url)
    part = roost.client.get(url, headers={"Range": "bytes=100-199"})

    assert whole.status_code == 200 and len(whole.content) > 200
    assert part.status_code == 206 and part.content == whole.content[100:200]


def test_given_a_post_deleted_with_its_media_then_the_objects_leave_the_bucket(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    gone, kept = _uploaded(alice, samples.png(30, 30)), _uploaded(alice, samples.png(40, 40))
    post = alice.post_status("gone", media_ids=[gone["id"]])
    alice.post_status("stays", media_ids=[kept["id"]])
    url = post["media_attachments"][0]["url"]
    assert roost.client.get(url).status_code == 200  # now in this server's cache too

    deleted = alice.delete(f"/api/v1/statuses/{post['id']}", params={"delete_media": "true"})
    roost.drain_jobs()

    assert deleted.status_code == 200, deleted.text
    keys = bucket_keys(roost.settings)
    assert _key(gone["url"]) not in keys and _key(gone["preview_url"]) not in keys
    assert _key(kept["url"]) in keys
    cache = roost.settings.data_dir / "media-cache"
    assert not (cache / _key(gone["url"])).exists()


def test_given_an_account_with_media_in_a_bucket_when_erased_then_its_objects_are_gone(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    media = _uploaded(alice)
    alice.post_status("mine", media_ids=[media["id"]])
    avatar = alice.patch(
        "/api/v1/accounts/update_credentials",
        files={"avatar": ("me.png", samples.png(50, 50), "image/png")},
    )
    assert avatar.status_code == 200, avatar.text
    others = _uploaded(bob, samples.png(33, 33))
    before = bucket_keys(roost.settings)
    alices = {_key(media["url"]), _key(media["preview_url"]), _key(avatar.json()["avatar"])}
    assert alices <= before

    services: Services = roost.client.app.state.services  # type: ignore[attr-defined]
    receipt = roost.run(lambda: erase_account(services, int(alice.id)))

    assert receipt.clean, receipt.hits
    after = bucket_keys(roost.settings)
    assert not alices & after
    assert _key(others["url"]) in after


def test_given_media_in_a_bucket_when_backed_up_then_verify_checks_each_object(
    roost: Roost, tmp_path: Path
) -> None:
    alice = roost.account("alice")
    media = _uploaded(alice)
    alice.post_status("kept", media_ids=[media["id"]])
    settings = roost.settings

    backup = asyncio.run(create_backup(settings, to=tmp_path / "backups"))
    listed = backup.manifest.details["media_bucket"]["objects"]
    report = asyncio.run(verify_backup(settings, backup.path))

    assert set(listed) == bucket_keys(settings)
    assert not any(name.startswith("media/") for name in backup.manifest.files)
    assert any(f"media: {len(listed)} objects present in bucket" in c for c in report.checks)

    # An object lost from the bucket: the same backup no longer verifies.
    store = media_store(settings)
    assert isinstance(store, S3MediaStore)
    asyncio.run(store.delete(_key(media["url"])))
    with pytest.raises(BackupDamaged, match="1 objects missing"):
        asyncio.run(verify_backup(settings, backup.path))


def test_given_an_unreachable_bucket_when_uploading_then_503_in_mastodon_shape(
    settings: Settings, s3_server: S3Server, s3_bucket: str
) -> None:
    broken = bucket_settings(settings, s3_server, s3_bucket).model_copy(
        update={"s3_endpoint": "http://127.0.0.1:9"}
    )
    with TestClient(create_app(broken)) as client:
        alice = Roost(client, broken).account("alice")
        response = _uploaded_raw(alice)
    assert response.status_code == 503
    assert "error" in response.json()


def _uploaded_raw(user: User) -> Any:
    return user.post(
        "/api/v2/media", files={"file": ("photo.png", samples.png(24, 24), "image/png")}
    )


def test_given_a_bucket_when_doctor_runs_then_it_answers_and_a_wrong_secret_fails(
    roost: Roost,
) -> None:
    services: Services = roost.client.app.state.services  # type: ignore[attr-defined]

    good = roost.run(lambda: check_media_store(services))
    wrong = roost.settings.model_copy(update={"s3_secret_key": SecretStr("not-the-secret")})
    bad = roost.run(lambda: check_media_store(replace(services, settings=wrong)))

    assert good.status == OK and roost.settings.s3_bucket in good.detail
    assert bad.status == FAIL and "not-the-secret" not in bad.detail
