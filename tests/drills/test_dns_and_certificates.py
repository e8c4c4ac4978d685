"""Drill (threats 54, 55): the certificate runs out, the domain stops pointing here.

A TLS server on this machine serves certificates the drill makes with
`cryptography` (a test CA made trusted through SSL_CERT_FILE): one with weeks
left, one with days, one expired an hour ago, one for another name, and a
renewed one. A DNS server on this machine (UDP, asked through
ROOST_DNS_RESOLVER) answers for the domain: this server's address, then
another machine's, then one of each, then "no such name". For each,
`roost doctor` must say what is wrong in words an operator acts on, the
gauges a scrape of /metrics exports must say it too, and promtool, fed the
scraped value, must fire the alert whose runbook comes next.
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
import struct
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from roost.app import create_app
from roost.cli.main import app as cli
from roost.config import Settings
from roost.ops.doctor import FAIL, OK, WARN, Check, check_dns, check_tls
from roost.ops.exposure import ExposureProbe
from roost.ops.netchecks import QTYPE_A, encode_name
from roost.services import build_services
from tests.observability.promql import RULES, run_promtool

DOMAIN = "roost.drill.test"
HERE, ELSEWHERE = "127.0.0.1", "192.0.2.7"
EXPIRES_SOON = "RoostCertificateExpiresSoon"
SCRAPER = {"authorization": "Bearer " + "scrape" * 4}


# -- certificates ------------------------------------------------------------


class Authority:
    """A CA the drill's clients trust; it signs whatever the drill serves."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir()
        self.directory = directory
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Roost drill CA")])
        now = datetime.now(UTC)
        ca = (
            x509.CertificateBuilder()
            .subject_name(self.name)
            .issuer_name(self.name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=400))
            .not_valid_after(now + timedelta(days=400))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.bundle = self.directory / "ca.pem"
        self.bundle.write_bytes(ca.public_bytes(serialization.Encoding.PEM))

    def issue(self, name: str, expires_in: timedelta) -> ssl.SSLContext:
        """A server context serving a certificate for ``name`` that expires
        ``expires_in`` from now (negative: already expired)."""
        now = datetime.now(UTC)
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(self.name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now + expires_in - timedelta(days=90))
            .not_valid_after(now + expires_in)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        stem = self.directory / f"{name}-{cert.serial_number}"
        cert_file, key_file = stem.with_suffix(".crt"), stem.with_suffix(".key")
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        return context


class TlsServer:
    """Accepts TLS handshakes on 127.0.0.1 with whichever context is current
    (the drill swaps it as a proxy's renewal would)."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self.context = context
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            conn.settimeout(5)
            try:
                with self.context.wrap_socket(conn, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.listener.close()


# -- DNS ---------------------------------------------------------------------


class DnsServer:
    """Answers A queries from ``records`` (a name absent: NXDOMAIN; AAAA:
    none), as the zone's authoritative server would after each edit."""

    def __init__(self) -> None:
        self.records: dict[str, list[str]] = {}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.queries = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                packet, peer = self.sock.recvfrom(512)
            except TimeoutError:
                continue
            self.queries += 1
            self.sock.sendto(self._answer(packet), peer)

    def _answer(self, packet: bytes) -> bytes:
        ident = packet[:2]
        at, labels = 12, []
        while packet[at]:
            labels.append(packet[at + 1 : at + 1 + packet[at]].decode())
            at += 1 + packet[at]
        question = packet[12 : at + 5]
        qtype = struct.unpack("!H", packet[at + 1 : at + 3])[0]
        name = ".".join(labels).lower()
        if name not in self.records:
            return ident + struct.pack("!HHHHH", 0x8183, 1, 0, 0, 0) + question
        addresses = self.records[name] if qtype == QTYPE_A else []
        answers = b"".join(
            encode_name(name) + struct.pack("!HHIH", QTYPE_A, 1, 300, 4) + socket.inet_aton(a)
            for a in addresses
        )
        header = struct.pack("!HHHHH", 0x8180, 1, len(addresses), 0, 0)
        return ident + header + question + answers

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.sock.close()


# -- fixtures and helpers ----------------------------------------------------


@pytest.fixture
def authority(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Authority:
    ca = Authority(tmp_path / "pki")
    monkeypatch.setenv("SSL_CERT_FILE", str(ca.bundle))  # trusted by the default context
    return ca


@pytest.fixture
def dns() -> Iterator[DnsServer]:
    server = DnsServer()
    yield server
    server.close()


def _probe(settings: Settings) -> tuple[Check, Check, str]:
    """doctor's tls and dns checks, and the metrics a probe of both exports."""

    async def run() -> tuple[Check, Check, str]:
        svc = build_services(settings)
        try:
            tls, dns = await asyncio.gather(check_tls(svc), check_dns(svc))
            await ExposureProbe().refresh(svc)
            return tls, dns, svc.metrics.exposition().decode()
        finally:
            await svc.close()

    return asyncio.run(run())


def _gauge(text: str, name: str) -> float | None:
    match = re.search(rf"^{name}\{{[^}}]*\}} (\S+)$", text, re.MULTILINE)
    return None if match is None else float(match.group(1))


def _alerts_fired(tmp_path: Path, series: str, value: float, alert: str) -> str:
    """promtool's verdict on RULES for one scraped value, held for two hours:
    the expected alert list is left empty, so a firing alert makes promtool
    fail and print what fired (an alert that does not fire: it passes)."""
    test = tmp_path / f"{alert}.test.yml"
    test.write_text(
        f"rule_files: [{RULES}]\n"
        "evaluation_interval: 1m\n"
        "tests:\n"
        "  - interval: 5m\n"
        "    input_series:\n"
        f'      - series: \'{series}{{host="{DOMAIN}",instance="drill:8000",job="roost"}}\'\n'
        f"        values: '{value:.0f}x40'\n"
        "    alert_rule_test:\n"
        "      - eval_time: 2h\n"
        f"        alertname: {alert}\n"
        "        exp_alerts: []\n"
    )
    done = run_promtool("test", "rules", test)
    return "" if done.returncode == 0 else done.stdout + done.stderr


def _tls_settings(settings: Settings, port: int) -> Settings:
    return settings.model_copy(
        update={"domain": f"localhost:{port}", "public_url": f"https://localhost:{port}"}
    )


def _dns_settings(settings: Settings, port: int) -> Settings:
    return settings.model_copy(
        update={
            "domain": DOMAIN,
            "public_url": f"http://{DOMAIN}",
            "dns_resolver": f"127.0.0.1:{port}",
            "public_addresses": HERE,
        }
    )


# -- the drills ----------------------------------------------------------------


def test_given_a_certificate_running_out_then_doctor_warns_fails_and_the_alert_fires(
    settings: Settings, authority: Authority, tmp_path: Path
) -> None:
    server = TlsServer(authority.issue("localhost", timedelta(days=60)))
    try:
        drill = _tls_settings(settings, server.port)
        tls, _, metrics = _probe(drill)
        assert (tls.status == OK and "(60 days)" in tls.detail) or "(59 days)" in tls.detail
        expires = _gauge(metrics, "roost_tls_certificate_expiry_timestamp_seconds")
        assert expires is not None and abs(expires - time.time() - 60 * 86400) < 120
        assert _gauge(metrics, "roost_tls_certificate_verifies") == 1.0
        shifted = expires - time.time()  # promtool's clock starts at 0
        series = "roost_tls_certificate_expiry_timestamp_seconds"
        assert _alerts_fired(tmp_path, series, shifted, EXPIRES_SOON) == ""

        # Renewal has been failing for weeks: 12 days left.
        server.context = authority.issue("localhost", timedelta(days=12))
        tls, _, metrics = _probe(drill)
        assert tls.status == WARN, tls
        assert re.search(
            r"expires \d{4}-\d\d-\d\d \d\d:\d\d UTC \(1[12] days\): renewal is overdue", tls.detail
        )
        expires = _gauge(metrics, "roost_tls_certificate_expiry_timestamp_seconds")
        assert expires is not None
        fired = _alerts_fired(
            tmp_path, series, expires - time.time(), "RoostCertificateExpiresSoon"
        )
        assert 'severity="ticket"' in fired and 'severity="page"' not in fired, fired
        assert "expires within three weeks" in fired

        # Three days left: doctor fails, the page fires.
        server.context = authority.issue("localhost", timedelta(days=3))
        tls, _, metrics = _probe(drill)
        assert tls.status == FAIL and "renewal has failed; renew now" in tls.detail, tls
        expires = _gauge(metrics, "roost_tls_certificate_expiry_timestamp_seconds")
        assert expires is not None
        fired = _alerts_fired(
            tmp_path, series, expires - time.time(), "RoostCertificateExpiresSoon"
        )
        assert 'severity="page"' in fired and "expires within a week" in fired, fired

        # Expired an hour ago: doctor says so, and the CLI exits 1 on it.
        server.context = authority.issue("localhost", timedelta(hours=-1))
        tls, _, metrics = _probe(drill)
        assert tls.status == FAIL, tls
        assert "expired" in tls.detail and "browsers, apps and peers refuse it" in tls.detail
        expires = _gauge(metrics, "roost_tls_certificate_expiry_timestamp_seconds")
        assert expires is not None and expires < time.time()
        fired = _alerts_fired(
            tmp_path, series, expires - time.time(), "RoostCertificateExpiresSoon"
        )
        assert 'severity="page"' in fired and "a negative time: it has expired" in fired

        # Renewed: everything is quiet again.
        server.context = authority.issue("localhost", timedelta(days=90))
        tls, _, _ = _probe(drill)
        assert tls.status == OK, tls
    finally:
        server.close()


def test_given_a_certificate_for_another_name_then_doctor_fails_and_verifies_is_0(
    settings: Settings, authority: Authority, tmp_path: Path
) -> None:
    server = TlsServer(authority.issue("other.example", timedelta(days=60)))
    try:
        tls, _, metrics = _probe(_tls_settings(settings, server.port))
        assert tls.status == FAIL and "does not verify" in tls.detail, tls
        assert "mismatch" in tls.detail.lower() or "localhost" in tls.detail
        assert _gauge(metrics, "roost_tls_certificate_verifies") == 0.0
        fired = _alerts_fired(
            tmp_path, "roost_tls_certificate_verifies", 0, "RoostCertificateDoesNotVerify"
        )
        assert "does not verify" in fired and "RoostCertificateDoesNotVerify.md" in fired
    finally:
        server.close()


def test_given_the_domain_moved_elsewhere_then_doctor_names_the_addresses_and_the_alert_fires(
    settings: Settings, dns: DnsServer, tmp_path: Path
) -> None:
    drill = _dns_settings(settings, dns.port)

    dns.records[DOMAIN] = [HERE]
    _, found, metrics = _probe(drill)
    assert found.status == OK and found.detail.endswith(": this server"), found
    assert f"asked 127.0.0.1:{dns.port}" in found.detail and dns.queries > 0
    assert _gauge(metrics, "roost_dns_points_here") == 1.0
    assert _alerts_fired(tmp_path, "roost_dns_points_here", 1, "RoostDnsNotPointingHere") == ""

    # A second address slipped in (a half-done migration): some clients go there.
    dns.records[DOMAIN] = [HERE, ELSEWHERE]
    _, found, metrics = _probe(drill)
    assert found.status == WARN, found
    assert f"{ELSEWHERE} is not this server; some clients reach it" in found.detail
    assert _gauge(metrics, "roost_dns_points_here") == 0.0

    # The record now points at another machine altogether.
    dns.records[DOMAIN] = [ELSEWHERE]
    _, found, metrics = _probe(drill)
    assert found.status == FAIL, found
    assert f"{DOMAIN} -> {ELSEWHERE}" in found.detail
    assert f"not this server (ROOST_PUBLIC_ADDRESSES={HERE})" in found.detail
    assert _gauge(metrics, "roost_dns_points_here") == 0.0
    fired = _alerts_fired(tmp_path, "roost_dns_points_here", 0, "RoostDnsNotPointingHere")
    assert f"{DOMAIN} does not resolve to this server" in fired, fired
    assert "RoostDnsNotPointingHere.md" in fired

    # The name is gone (a lapsed registration, a deleted zone).
    del dns.records[DOMAIN]
    _, found, metrics = _probe(drill)
    assert found.status == FAIL, found
    assert f"{DOMAIN} does not resolve" in found.detail and "NXDOMAIN" in found.detail
    assert _gauge(metrics, "roost_dns_points_here") == 0.0

    # Put back: quiet again.
    dns.records[DOMAIN] = [HERE]
    _, found, metrics = _probe(drill)
    assert found.status == OK and _gauge(metrics, "roost_dns_points_here") == 1.0


def test_given_the_domain_moved_when_metrics_are_scraped_then_the_gauge_follows(
    settings: Settings, dns: DnsServer
) -> None:
    """The gauges come from scrapes of /metrics, refreshed in the background
    at most every ROOST_EXPOSURE_CHECK_INTERVAL_S (0 here: every scrape)."""
    dns.records[DOMAIN] = [ELSEWHERE]
    drill = _dns_settings(settings, dns.port).model_copy(
        update={
            "metrics_token": "scrape" * 4,
            "exposure_check_interval_s": 0.0,
            "run_jobs_in_process": False,
        }
    )
    with TestClient(create_app(drill)) as client:

        def scraped() -> float | None:
            return _gauge(client.get("/metrics", headers=SCRAPER).text, "roost_dns_points_here")

        deadline = time.monotonic() + 20
        while scraped() != 0.0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert scraped() == 0.0
        dns.records[DOMAIN] = [HERE]
        while scraped() != 1.0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert scraped() == 1.0


def test_given_the_cli_when_the_domain_does_not_point_here_then_doctor_exits_1_naming_it(
    tmp_path: Path, dns: DnsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    dns.records[DOMAIN] = [ELSEWHERE]
    monkeypatch.setenv("ROOST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ROOST_DOMAIN", DOMAIN)
    monkeypatch.setenv("ROOST_PUBLIC_URL", f"http://{DOMAIN}")
    monkeypatch.setenv("ROOST_DNS_RESOLVER", f"127.0.0.1:{dns.port}")
    monkeypatch.setenv("ROOST_PUBLIC_ADDRESSES", HERE)
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(cli, ["doctor"])
    assert result.exit_code == 1
    line = next(x for x in result.output.splitlines() if x.startswith("FAIL  dns"))
    assert f"{DOMAIN} -> {ELSEWHERE}" in line and "not this server" in line, line
