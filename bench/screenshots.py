"""Screenshots of the main web pages at phone (390x844) and desktop (1280x800)
widths, for docs/screenshots/.

    .venv/bin/python -m bench.screenshots [--out docs/screenshots] [--archive ZIP_OR_FOLDER]

Starts ``roost serve`` on a fresh embedded data directory, makes a few
accounts with the CLI (one of them a moderator) and a little data through
the API (posts with a picture, a reply, a poll, a follow, a mention, a
report), then drives Debian's Chromium (/usr/bin/chromium, with Playwright)
through the pages: the home page, a profile, a thread, a tag, sign-in, the
home timeline with its compose form, notifications, the import page (with
the report of an imported Twitter archive when one is given, by default the
shared mock archive if it is there) and the moderation queue. Each picture
is what the window shows (not the whole page), reduced to 256 colours, so
the files stay small. Exits 1 if a page did not answer 200.
"""

from __future__ import annotations

import argparse
import io
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from bench import _server

CHROMIUM = Path("/usr/bin/chromium")
SIZES: dict[str, Any] = {
    "phone": {"width": 390, "height": 844},
    "desktop": {"width": 1280, "height": 800},
}
PASSWORD = "a long and careful password"
MOCK = Path(__file__).resolve().parents[2] / "shared/fixtures/twitter-archive-community-mock"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--archive", type=Path, default=MOCK, help="a Twitter archive to import")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"Chromium is not at {CHROMIUM} (apt-get install chromium)", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="roost-shots-") as scratch,
        _serving(Path(scratch)) as (base, env),
    ):
        data = _seed(base, env)
        archive = _archive(args.archive, Path(scratch)) if args.archive.exists() else None
        failed = _photograph(base, data, archive, args.out)
    for name in failed:
        print(f"{name}: the page did not answer 200", file=sys.stderr)
    return 1 if failed else 0


@contextmanager
def _serving(scratch: Path) -> Iterator[tuple[str, dict[str, str]]]:
    data_dir = scratch / "data"
    data_dir.mkdir()
    port = _server.free_port()
    settings = {
        "domain": f"{_server.HOST}:{port}",
        "registrations": "open",
        "landing_page_posts": "true",
        "instance_title": "Roost",
        "instance_description": "A small, friendly Roost server.",
        # The machine may be busy: a picture with a shed request in it is no
        # picture of the page.
        **_server.CAPACITY,
    }
    env = _server.server_env(data_dir, **settings)
    log = scratch / "serve.log"
    _roost(env, "db", "upgrade")
    process = _server.launch(data_dir, port, log, **settings)
    try:
        _server.wait_until_answering(process, port)
        yield f"http://{_server.HOST}:{port}", env
    except BaseException:
        sys.stderr.write(log.read_text(errors="replace")[-4000:])
        raise
    finally:
        _server.stop(process)


def _roost(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(_server.ROOST), *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"roost {' '.join(args[:2])}: {done.stderr.strip()}")
    return done.stdout.strip()


def _png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def _seed(base: str, env: dict[str, str]) -> dict[str, str]:
    """Accounts (wren, finch, kestrel the moderator) and what they post."""
    for name in ("wren", "finch", "kestrel"):
        _roost(env, "accounts", "create", name, "--email", f"{name}@example.org",
               "--password", PASSWORD)  # fmt: skip
    _roost(env, "roles", "grant", "kestrel", "Moderator")
    for rule in ("Be kind to one another", "No spam or advertising", "Describe your images"):
        _roost(env, "rules", "add", rule)
    wren = _api(base, _roost(env, "tokens", "create", "wren"))
    finch = _api(base, _roost(env, "tokens", "create", "finch"))
    wren.patch(
        "/api/v1/accounts/update_credentials",
        data={"display_name": "Wren", "note": "Birds, trains and coffee. Posting from Roost."},
    ).raise_for_status()
    finch.patch(
        "/api/v1/accounts/update_credentials",
        data={"display_name": "Finch", "note": "Gardener."},
    ).raise_for_status()
    picture = wren.post(
        "/api/v2/media",
        files={"file": ("garden.png", _png(640, 360, (70, 130, 90)), "image/png")},
        data={"description": "a green rectangle standing in for a garden"},
    )
    picture.raise_for_status()
    first = wren.post(
        "/api/v1/statuses",
        json={
            "status": "Morning walk by the river. The #garden is waking up.",
            "media_ids": [picture.json()["id"]],
        },
    ).json()
    finch_id = finch.get("/api/v1/accounts/verify_credentials").json()["id"]
    wren_id = wren.get("/api/v1/accounts/verify_credentials").json()["id"]
    wren.post(f"/api/v1/accounts/{finch_id}/follow").raise_for_status()
    finch.post(f"/api/v1/accounts/{wren_id}/follow").raise_for_status()
    finch.post(
        "/api/v1/statuses",
        json={"status": "@wren lovely! The tulips are out too.", "in_reply_to_id": first["id"]},
    ).raise_for_status()
    finch.post(f"/api/v1/statuses/{first['id']}/favourite").raise_for_status()
    wren.post(
        "/api/v1/statuses",
        json={
            "status": "Tea or coffee for the #garden club?",
            "poll": {"options": ["Tea", "Coffee", "Both"], "expires_in": 86400},
        },
    ).raise_for_status()
    spam = finch.post("/api/v1/statuses", json={"status": "Cheap watches, follow the link!"})
    wren.post(
        "/api/v1/reports",
        json={
            "account_id": finch_id,
            "status_ids": [spam.json()["id"]],
            "comment": "Advertising",
            "category": "spam",
        },
    ).raise_for_status()
    return {"post": first["url"], "profile": first["account"]["url"]}


def _api(base: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _archive(source: Path, scratch: Path) -> Path:
    if source.is_file():
        return source
    target = scratch / "twitter-archive.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(source.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(source).as_posix())
    return target


def _save(page: Any, out: Path, name: str) -> None:
    for label, size in SIZES.items():
        page.set_viewport_size(size)
        page.wait_for_timeout(150)
        shot = Image.open(io.BytesIO(page.screenshot()))
        small = shot.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
        small.save(out / f"{name}-{label}.png", optimize=True)
    page.set_viewport_size(SIZES["desktop"])


def _sign_in(page: Any, base: str, name: str) -> None:
    page.goto(base + "/auth/sign_in")
    page.get_by_label("User name or e-mail address").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Home", exact=True).wait_for()


def _photograph(base: str, data: dict[str, str], archive: Path | None, out: Path) -> list[str]:
    from playwright.sync_api import sync_playwright

    failed: list[str] = []

    def visit(page: Any, name: str, url: str) -> None:
        response = page.goto(url)
        if response is None or response.status != 200:
            failed.append(name)
            return
        _save(page, out, name)

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        try:
            visitor = chromium.new_context(viewport=SIZES["desktop"]).new_page()
            visit(visitor, "home", base + "/")
            visit(visitor, "profile", data["profile"])
            visit(visitor, "thread", data["post"])
            visit(visitor, "tag", base + "/tags/garden")
            visit(visitor, "sign-in", base + "/auth/sign_in")

            wren = chromium.new_context(viewport=SIZES["desktop"]).new_page()
            _sign_in(wren, base, "wren")
            visit(wren, "home-timeline", base + "/home")
            visit(wren, "notifications", base + "/web/notifications")
            visit(wren, "import", base + "/settings/data")
            if archive is not None:
                wren.get_by_label("Archive (.zip)").set_input_files(str(archive))
                # The archive is someone else's (its Twitter name is not wren).
                wren.get_by_label(re.compile("Import it even if")).check()
                wren.get_by_role("button", name="Upload and import").click()
                wren.locator("#progress-heading", has_text=re.compile("finished|failed")).wait_for(
                    timeout=120_000
                )
                _save(wren, out, "import-report")

            kestrel = chromium.new_context(viewport=SIZES["desktop"]).new_page()
            _sign_in(kestrel, base, "kestrel")
            visit(kestrel, "staff-queue", base + "/admin/queue")
        finally:
            chromium.close()
    return failed


if __name__ == "__main__":
    sys.exit(main())
