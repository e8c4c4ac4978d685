"""Drill: media on object storage, served by any server (scaled mode).

Two real ``roost serve`` processes, each with a data directory of its own,
share one PostgreSQL database, one Redis and one S3-compatible bucket
(SeaweedFS, tests/s3_server.py). A picture uploaded through server A is
served by server B, which never saw the upload; B still asks the privacy
policy first: a followers-only post's picture reaches the follower (with the
URL A signed for them) and nobody else. Deleted through B, A (which had it in
its cache) no longer serves it, and a worker's job removes it from the bucket.
No data directory holds a media directory.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.drills.conftest import Stack
from tests.drills.support import wait_for
from tests.media import samples
from tests.s3_server import S3Server, bucket_store

pytestmark = [pytest.mark.slow, pytest.mark.backend]


def on(server: str, url: str) -> str:
    """A media URL (made with the instance's public address) asked of one server."""
    parts = urlsplit(url)
    return server + parts.path + (f"?{parts.query}" if parts.query else "")


def test_given_two_servers_and_one_bucket_when_media_uploaded_to_a_then_b_serves_it(
    stack: Stack, s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    bucket = {k: str(v) for k, v in s3_server.settings_for(s3_bucket).items()}
    _, server_a = stack.server("server-a", data_dir=str(tmp_path / "a"), **bucket)
    _, server_b = stack.server("server-b", data_dir=str(tmp_path / "b"), **bucket)
    author, follower, stranger = (stack.accounts(name, 1)[0] for name in ("ann", "fol", "str"))
    stack.follow([follower], author)
    ann = {"Authorization": f"Bearer {stack.token(author)}"}
    fol = {"Authorization": f"Bearer {stack.token(follower)}"}
    other = {"Authorization": f"Bearer {stack.token(stranger)}"}

    with httpx.Client(timeout=30) as http:
        uploads = []
        for size in (32, 48):
            response = http.post(
                server_a + "/api/v2/media",
                headers=ann,
                files={"file": ("p.png", samples.png(size, size), "image/png")},
            )
            assert response.status_code == 200, response.text + stack.log("server-a")
            uploads.append(response.json())
        public = http.post(
            server_a + "/api/v1/statuses",
            headers=ann,
            json={"status": "for all", "media_ids": [uploads[0]["id"]]},
        ).json()
        private = http.post(
            server_a + "/api/v1/statuses",
            headers=ann,
            json={"status": "friends", "visibility": "private", "media_ids": [uploads[1]["id"]]},
        ).json()

        # Public media: B serves what A stored, to anyone.
        public_url = on(server_b, public["media_attachments"][0]["url"])
        served = http.get(public_url)
        assert served.status_code == 200, stack.log("server-b")[-3000:]
        assert (
            served.content == http.get(on(server_a, public["media_attachments"][0]["url"])).content
        )

        # Followers-only: the URL A signed for the follower works on B; a stranger gets 404.
        seen = http.get(f"{server_a}/api/v1/statuses/{private['id']}", headers=fol).json()
        signed = on(server_b, seen["media_attachments"][0]["url"])
        assert "signature=" in signed
        assert http.get(signed).status_code == 200
        plain = signed.split("?")[0]
        assert http.get(plain).status_code == 404
        assert http.get(plain, headers=other).status_code == 404
        forged = signed.replace(f"viewer={follower}", f"viewer={stranger}")
        assert http.get(forged).status_code == 404

        # Deleted through B: out of the bucket, and A (which cached it) stops serving it.
        a_url = on(server_a, public["media_attachments"][0]["url"])
        deleted = http.delete(
            f"{server_b}/api/v1/statuses/{public['id']}",
            headers=ann,
            params={"delete_media": "true"},
        )
        assert deleted.status_code == 200, deleted.text
        assert http.get(a_url).status_code == 404
        assert http.get(public_url).status_code == 404

    name = a_url.rsplit("/", 1)[-1]
    key = f"{name[:2]}/{name[2:4]}/{name}"

    # The files go in a job: a worker (a third data directory) takes it.
    stack.worker("worker", data_dir=str(tmp_path / "w"), **bucket)
    store = bucket_store(s3_server, s3_bucket)
    wait_for(lambda: not asyncio.run(store.exists(key)), 30, "the object leaving the bucket")
    for directory in (tmp_path / "a", tmp_path / "b", tmp_path / "w"):
        assert not (directory / "media").exists()
