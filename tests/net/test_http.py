"""The outbound client against a local server: private addresses refused
unless allowed, redirects re-checked, size and time limits, its User-Agent;
and profile links verified by their rel="me" link back."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from roost.config import Settings, SettingsError, load_settings
from roost.net.http import OutboundRefused, address_allowed, fetch
from tests.conftest import Roost

PAGES: dict[str, tuple[int, dict[str, str], bytes]] = {}
SEEN_AGENTS: list[str] = []


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        SEEN_AGENTS.append(self.headers.get("User-Agent", ""))
        if self.path == "/slow":
            import time

            time.sleep(3)
        status, headers, body = PAGES.get(self.path, (404, {}, b"missing"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        # The client may stop reading (the size limit): what is being tested.
        with contextlib.suppress(BrokenPipeError):
            self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def _serving(host: str) -> Iterator[str]:
    httpd = ThreadingHTTPServer((host, 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def server() -> Iterator[str]:
    try:
        with _serving("127.0.0.1") as url:
            yield url
    finally:
        PAGES.clear()


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    return load_settings(data_dir=tmp_path, secret_key="k" * 40, **overrides)


def test_given_the_default_settings_then_loopback_and_private_addresses_are_refused(
    tmp_path: Path, server: str
) -> None:
    PAGES["/"] = (200, {}, b"hello")
    settings = _settings(tmp_path)
    for url in (server + "/", "http://localhost:1/", "http://10.0.0.1/", "http://[::1]/"):
        with pytest.raises(OutboundRefused):
            asyncio.run(fetch(settings, url))
    for address in ("127.0.0.1", "10.1.2.3", "192.168.0.1", "169.254.169.254", "100.64.0.1",
                    "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "0.0.0.0"):  # fmt: skip
        assert not address_allowed(address), address
    assert address_allowed("93.184.216.34")
    with pytest.raises(OutboundRefused):
        asyncio.run(fetch(settings, "file:///etc/passwd"))


def test_given_private_allowed_then_it_fetches_and_names_itself(
    tmp_path: Path, server: str
) -> None:
    PAGES["/page"] = (200, {"Content-Type": "text/html"}, b"<p>hi</p>")
    settings = _settings(tmp_path, outbound_allow_private=True)
    got = asyncio.run(fetch(settings, server + "/page"))
    assert got.status == 200 and got.body == b"<p>hi</p>" and got.content_type == "text/html"
    assert SEEN_AGENTS[-1].startswith("Roost/")


def test_redirects_are_followed_a_few_times_and_each_hop_is_checked(
    tmp_path: Path, server: str
) -> None:
    PAGES["/a"] = (302, {"Location": "/b"}, b"")
    PAGES["/b"] = (200, {}, b"arrived")
    PAGES["/loop"] = (302, {"Location": "/loop"}, b"")
    allowed = _settings(tmp_path, outbound_allow_private=True)
    assert asyncio.run(fetch(allowed, server + "/a")).body == b"arrived"
    with pytest.raises(OutboundRefused, match="redirects"):
        asyncio.run(fetch(allowed, server + "/loop"))
    PAGES["/away"] = (302, {"Location": "ftp://example.org/x"}, b"")
    with pytest.raises(OutboundRefused, match="http"):
        asyncio.run(fetch(allowed, server + "/away"))


def test_answers_too_large_or_too_slow_are_refused(tmp_path: Path, server: str) -> None:
    PAGES["/big"] = (200, {}, b"x" * 5000)
    settings = _settings(tmp_path, outbound_allow_private=True, outbound_timeout_s=1.0)
    with pytest.raises(OutboundRefused, match="larger"):
        asyncio.run(fetch(settings, server + "/big", max_bytes=2048))
    with pytest.raises(OutboundRefused, match="no answer"):
        asyncio.run(fetch(settings, server + "/slow"))


@pytest.mark.settings(outbound_allow_private=True)
def test_given_a_profile_link_whose_page_links_back_with_rel_me_then_it_is_verified(
    roost: Roost, server: str
) -> None:
    alice = roost.account("alice")
    base = roost.settings.base_url
    PAGES["/home"] = (200, {}, f'<a rel="me" href="{base}/@alice">me on Roost</a>'.encode())
    PAGES["/other"] = (200, {}, b'<a href="https://example.org/">nothing back</a>')
    fields = {
        "fields_attributes[0][name]": "Site",
        "fields_attributes[0][value]": server + "/home",
        "fields_attributes[1][name]": "Other",
        "fields_attributes[1][value]": server + "/other",
    }
    assert alice.patch("/api/v1/accounts/update_credentials", data=fields).status_code == 200
    roost.drain_jobs()
    shown = alice.get(f"/api/v1/accounts/{alice.id}").json()["fields"]
    assert shown[0]["verified_at"] is not None and shown[1]["verified_at"] is None
    page = roost.client.get("/@alice").text
    assert 'rel="me nofollow noopener noreferrer"' in page
    assert page.count('class="verified"') == 1
    PAGES["/home"] = (200, {}, b"<p>no longer</p>")
    fields["fields_attributes[0][name]"] = "Renamed"
    alice.patch("/api/v1/accounts/update_credentials", data=fields)
    roost.drain_jobs()
    again = alice.get(f"/api/v1/accounts/{alice.id}").json()["fields"]
    assert again[0]["verified_at"] is None


def test_ipv6_addresses_that_carry_an_internal_ipv4_address_are_refused() -> None:
    for address in (
        "::ffff:10.0.0.1",  # IPv4-mapped
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "fec0::1",  # site-local
        "ff02::1",  # multicast
        "fe80::1%1",  # link-local with a zone
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
    ):
        assert not address_allowed(address), address
    for address in ("8.8.8.8", "2606:4700:4700::1111", "64:ff9b::808:808", "::ffff:8.8.8.8"):
        assert address_allowed(address), address


def test_an_allowed_network_opens_only_itself() -> None:
    lab = load_settings(outbound_allowed_networks="10.1.0.0/16, fd00::/8").outbound_networks
    assert address_allowed("10.1.2.3", lab) and address_allowed("fd00::5", lab)
    assert address_allowed("::ffff:10.1.2.3", lab)
    assert not address_allowed("10.2.0.1", lab) and not address_allowed("127.0.0.1", lab)
    with pytest.raises(SettingsError, match="ROOST_OUTBOUND_ALLOWED_NETWORKS"):
        load_settings(outbound_allowed_networks="10.1.0.0/16,lab")


def test_given_an_allowed_host_when_it_redirects_to_a_private_address_then_refused(
    tmp_path: Path, server: str
) -> None:
    """A server on 127.0.0.2 stands for an allowed (public) host: only its
    address is allowed. It redirects to the server on 127.0.0.1, which is not."""
    PAGES["/inside"] = (200, {}, b"internal secrets")
    PAGES["/fine"] = (200, {}, b"public page")
    settings = _settings(tmp_path, outbound_allowed_networks="127.0.0.2/32")
    with _serving("127.0.0.2") as allowed_host:
        PAGES["/hop"] = (302, {"Location": "/fine"}, b"")
        assert asyncio.run(fetch(settings, allowed_host + "/hop")).body == b"public page"
        PAGES["/to-inside"] = (302, {"Location": server + "/inside"}, b"")
        with pytest.raises(OutboundRefused, match="may not reach"):
            asyncio.run(fetch(settings, allowed_host + "/to-inside"))
        # Straight to it, and by a name that resolves to it: refused as well.
        with pytest.raises(OutboundRefused):
            asyncio.run(fetch(settings, server + "/inside"))
        port = server.rsplit(":", 1)[1]
        with pytest.raises(OutboundRefused, match="may not reach"):
            asyncio.run(fetch(settings, f"http://localhost:{port}/inside"))


def test_an_answer_declaring_a_body_over_the_limit_is_refused_before_reading(
    tmp_path: Path, server: str
) -> None:
    PAGES["/huge"] = (200, {}, b"y" * 300_000)
    settings = _settings(tmp_path, outbound_allow_private=True)
    with pytest.raises(OutboundRefused, match="larger than 1024"):
        asyncio.run(fetch(settings, server + "/huge", max_bytes=1024))
