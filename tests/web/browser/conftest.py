"""Browser tests: Debian's Chromium driven by Playwright against a real
``roost serve`` process (on SQLite, and on PostgreSQL + Redis when the test
backends are configured), with a real SMTP server (aiosmtpd) for its mail.

Every page a test visits is checked with axe-core (bundled by the
``axe-playwright-python`` package, so nothing is downloaded at test time):
a serious or critical violation fails the test. Screenshots of the main pages
at phone (390x844) and desktop (1280x800) widths go to
``ROOST_SCREENSHOTS_DIR`` (a temporary directory when unset).

Chromium must be at /usr/bin/chromium (`apt-get install chromium`; .ci/run
installs it). Without it these tests skip, or fail under
ROOST_REQUIRE_BACKENDS=1.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest

from roost.config import Settings
from tests.conftest import REQUIRE_BACKENDS
from tests.drills.support import ROOST, free_port, roost_env, wait_for
from tests.web.support import Mailbox, start_mailbox

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
BAD_IMPACTS = {"serious", "critical"}


@dataclass
class Server:
    url: str
    settings: Settings
    env: dict[str, str]
    log: Path
    mailbox: Mailbox

    def roost(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(ROOST), *args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def api(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10)


@pytest.fixture
def server(settings: Settings, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Server]:
    """``roost serve`` on the test's backend; a test marked
    ``@pytest.mark.server_settings(name="value")`` adds settings of its own."""
    box, controller = start_mailbox()
    port = free_port()
    values = {
        "data_dir": str(settings.data_dir),
        "secret_key": settings.secret_key,
        "domain": f"127.0.0.1:{port}",
        "registrations": "open",
        "smtp_url": box.url,
        "outbound_allow_private": "true",
        "sign_in_attempts": "50",
        "landing_page_posts": "true",
        # The suite runs its drills beside these servers, and on two cores a
        # server process can wait tens of milliseconds to be scheduled at all:
        # admission control (its own drills: tests/drills, bench.overload)
        # then refused a page's navigation 503 as queueing behind an
        # overload. A browser journey asks nothing of it; a test that does
        # sets its own value with the marker below.
        "max_queue_ms": "1000",
    }
    marker = request.node.get_closest_marker("server_settings")
    if marker is not None:
        values.update({name: str(value) for name, value in marker.kwargs.items()})
    if settings.database_url:
        values["database_url"] = settings.database_url
    if settings.redis_url:
        values["redis_url"] = settings.redis_url
        values["redis_prefix"] = settings.redis_prefix
    env = roost_env(**values)
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(ROOST), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(url + "/livez", timeout=1).status_code == 200
        except httpx.HTTPError:
            return process.poll() is not None

    try:
        wait_for(up, 60, f"roost serve on {url}")
        assert process.poll() is None, log.read_text(errors="replace")[-4000:]
        yield Server(url, settings, env, log, box)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        controller.stop()


@pytest.fixture
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        reason = "Chromium is not installed at /usr/bin/chromium (apt-get install chromium)"
        if REQUIRE_BACKENDS:
            pytest.fail(f"{reason}, and ROOST_REQUIRE_BACKENDS=1 demands the browser tests")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    directory = os.environ.get("ROOST_SCREENSHOTS_DIR") or tempfile.mkdtemp(prefix="roost-shots-")
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    return path


_AXE: str | None = None


def axe_source() -> str:
    global _AXE
    if _AXE is None:
        _AXE = (resources.files("axe_playwright_python") / "axe.min.js").read_text()
    return _AXE


def check_accessibility(page: Any) -> None:
    """axe-core on the page as it is: no serious or critical violation."""
    page.evaluate(axe_source())
    results = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)"
    )
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + "; ".join(str(n.get("target")) for n in v.get("nodes", [])[:3])
        for v in results
        if v.get("impact") in BAD_IMPACTS
    ]
    assert not bad, f"{page.url}:\n" + "\n".join(bad)


def wait_for_mail(mailbox: Mailbox, count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while len(mailbox.messages) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(mailbox.messages) >= count, f"{len(mailbox.messages)} mails, expected {count}"
