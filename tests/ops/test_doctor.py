"""`roost doctor`: each check says what is wrong, and any failure exits 1."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import threading
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from roost.api.mastodon import hooks
from roost.cli.main import app
from roost.config import Settings, load_settings
from roost.media.store import media_root
from roost.ops import disk
from roost.ops.backup import create_backup
from roost.ops.doctor import FAIL, OK, SKIP, WARN, Check, check_disk, check_tls, run_doctor
from roost.ops.verify import verify_backup
from roost.services import Services, build_services

runner = CliRunner()


def _probe(settings: Settings, probe: Callable[[Services], Awaitable[Check]]) -> Check:
    async def run() -> Check:
        svc = build_services(settings)
        try:
            return await probe(svc)
        finally:
            await svc.close()

    return asyncio.run(run())


def _by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def test_given_no_backup_then_doctor_fails_and_after_a_verified_backup_it_passes(
    settings: Settings, tmp_path: Path
) -> None:
    before = _by_name(asyncio.run(run_doctor(settings)))
    assert before["backups"].status == FAIL and "no backup" in before["backups"].detail
    assert before["database"].status == OK and "is current" in before["database"].detail
    assert before["jobs"].status == OK
    assert before["dns"].status == SKIP and before["tls"].status == SKIP

    backup = asyncio.run(create_backup(settings))
    unverified = _by_name(asyncio.run(run_doctor(settings)))["backups"]
    assert unverified.status == WARN and "never verified" in unverified.detail
    # As `roost backup verify` does at its entry point: the check renders
    # restored posts as the API does, and must not rely on an earlier test
    # having built an app in this process.
    hooks.install()
    asyncio.run(verify_backup(settings, backup.path))
    after = _by_name(asyncio.run(run_doctor(settings)))
    assert after["backups"].status == OK and "last verify 0.0 days ago" in after["backups"].detail
    assert all(c.status != FAIL for c in after.values()), after


def test_given_the_cli_then_doctor_json_names_the_failures_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROOST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ROOST_DOMAIN", "roost-doctor.invalid")
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(app, ["doctor", "--json"])
    assert result.exit_code == 1
    body = json.loads(result.output)
    assert set(body["failed"]) == {"backups", "dns", "tls"}
    plain = runner.invoke(app, ["doctor"])
    assert plain.exit_code == 1 and "FAIL  dns" in plain.output and "3 failed" in plain.output


def test_given_media_that_grew_then_doctor_names_it_and_forecasts_when_the_disk_is_full(
    tmp_path: Path,
) -> None:
    settings = load_settings(data_dir=tmp_path / "data", secret_key="s" * 40)
    root = media_root(settings)
    root.mkdir(parents=True)
    (root / "big.bin").write_bytes(b"\x00" * (5 * 2**20))
    now_free = disk.space(settings.data_dir).free
    day_ago = datetime.now(UTC) - timedelta(days=1)
    history = [
        {
            "at": day_ago.isoformat(),
            "free": now_free + 5 * 2**20,
            "sizes": {"media": 0, "backups": 0, "logs": 0, "caches": 0, "database": 0, "other": 0},
        }
    ]
    (settings.data_dir / disk.HISTORY).write_text(json.dumps(history))
    check = _probe(settings, check_disk)
    assert "fastest growing: media" in check.detail
    assert check.data["growth_bytes_per_day"]["media"] == pytest.approx(5 * 2**20, rel=0.01)
    assert check.data["days_until_full"] is not None


def test_given_growth_that_eats_the_free_space_then_the_forecast_says_days() -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    gib = 2**30
    history = [
        disk.Sample(
            start + timedelta(days=d), free=(10 - 2 * d) * gib, sizes={"media": 2 * d * gib}
        )
        for d in range(4)
    ]
    grew = disk.growth(history)
    assert grew is not None
    assert grew.per_day["media"] == pytest.approx(2 * gib)
    assert grew.days_until_full(4 * gib) == pytest.approx(2.0)
    assert disk.growth(history[:1]) is None


def _certificate(directory: Path, days: int) -> tuple[Path, Path, Path]:
    """A CA and a localhost certificate it signed, valid for ``days`` more days."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Roost test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@pytest.fixture
def tls_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    ca, cert, key = _certificate(tmp_path, days=10)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))  # trusted by the default context
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            try:
                with context.wrap_socket(conn, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield port
    stop.set()
    thread.join()
    listener.close()


def test_given_a_certificate_expiring_in_ten_days_then_doctor_warns(
    tls_server: int, tmp_path: Path
) -> None:
    settings = load_settings(
        data_dir=tmp_path / "data",
        secret_key="s" * 40,
        domain=f"localhost:{tls_server}",
        public_url=f"https://localhost:{tls_server}",
    )
    check = _probe(settings, check_tls)
    assert check.status == WARN, check
    assert "(10 days)" in check.detail or "(9 days)" in check.detail
