"""Link preview cards: how long one card takes, and how many card jobs run
per second, against a local website (roost/domain/cards/handlers.py).

Builds a fresh SQLite data directory, one account and N public posts, each
linking its own page on a local ThreadingHTTPServer (about 40 KB of HTML,
OpenGraph tags in the head; every fourth page also announces an oEmbed
answer, fetched as a second request; every page names an ``og:image``, a
1200x800 JPEG photo of about 300 KB, fetched, re-encoded to 640x427 and
stored: roost/domain/cards/images.py). Then runs the ``card.fetch`` handler:

1. one post at a time (latency of a whole card: fetch, parse, oEmbed when
   announced, the image, store, link);
2. 8 at once (throughput of a runner with 8 jobs in flight);
3. again for posts linking pages that already have a fresh card (no fetch).

Run: .venv/bin/python -m bench.card_fetch   (about 20 seconds)
"""

from __future__ import annotations

import asyncio
import io
import os
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from PIL import Image

from bench import _results
from roost.config import load_settings
from roost.db.engine import Database
from roost.db.migrate import upgrade
from roost.domain.accounts.actions import NewAccount, do_create_account
from roost.domain.cards.handlers import fetch_link_card
from roost.domain.cards.jobs import FetchLinkCard
from roost.domain.statuses.actions import NewStatus, do_create_status
from roost.domain.types import Viewer
from roost.process import prepare_process
from roost.services import build_services

N = 200
FILLER = "<p>" + "A heron stands in the shallows. " * 1200 + "</p>"


def _page(number: int) -> bytes:
    oembed = (
        f'<link rel="alternate" type="application/json+oembed" href="/oembed/{number}">'
        if number % 4 == 0
        else ""
    )
    return (
        f"<!doctype html><html lang=en><head><title>Page {number}</title>"
        f'<meta property="og:title" content="Heron story {number}">'
        f'<meta property="og:description" content="All about heron {number}">'
        f'<meta property="og:image" content="/img/{number}.jpg">{oembed}</head>'
        f"<body>{FILLER}</body></html>"
    ).encode()


def _photo() -> bytes:
    """A photo-like JPEG (noise over a gradient, so it does not compress to nothing)."""
    width, height = 1200, 800
    gradient = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    noise = Image.effect_noise((width, height), 40).convert("RGB")
    out = io.BytesIO()
    Image.blend(gradient, noise, 0.3).save(out, "JPEG", quality=85)
    return out.getvalue()


PHOTO = _photo()


class _Site(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/img/"):
            body, kind = PHOTO, "image/jpeg"
        elif self.path.startswith("/oembed/"):
            body = (
                b'{"type":"video","title":"Heron video","html":'
                b'"<iframe src=\\"https://video.example/e\\"></iframe>","width":640,"height":360}'
            )
            kind = "application/json"
        else:
            body = _page(int(self.path.rsplit("/", 1)[-1]))
            kind = "text/html; charset=utf-8"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


async def main() -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    site = f"http://127.0.0.1:{httpd.server_address[1]}"
    with tempfile.TemporaryDirectory() as directory:
        settings = load_settings(
            data_dir=Path(directory), secret_key="b" * 40, outbound_allow_private=True
        )
        prepare_process(settings)
        db = Database(settings)
        await upgrade(db)
        services = build_services(settings, db)
        ctx = services.job_context()
        async with db.write() as tx:
            author = await do_create_account(
                tx, NewAccount(username="alice", email="a@example.org", password="x" * 12)
            )
        viewer = Viewer(account_id=author)

        async def posts(prefix: str, count: int, *, page_of: int = 0) -> list[int]:
            ids = []
            for number in range(count):
                async with db.write() as tx:
                    ids.append(
                        await do_create_status(
                            tx,
                            viewer,
                            NewStatus(text=f"{prefix} {site}/p/{page_of or number + 1}"),
                            base_url=settings.base_url,
                            max_chars=500,
                        )
                    )
            return ids

        single = await posts("one", N // 4)
        timings = []
        for status_id in single:
            started = time.perf_counter()
            await fetch_link_card(ctx, FetchLinkCard(status_id))
            timings.append(time.perf_counter() - started)
        many = [i + 1000 for i in range(N)]
        batch = []
        for number in many:
            async with db.write() as tx:
                batch.append(
                    await do_create_status(
                        tx,
                        viewer,
                        NewStatus(text=f"many {site}/p/{number}"),
                        base_url=settings.base_url,
                        max_chars=500,
                    )
                )
        semaphore = asyncio.Semaphore(8)

        async def one(status_id: int) -> None:
            async with semaphore:
                await fetch_link_card(ctx, FetchLinkCard(status_id))

        started = time.perf_counter()
        await asyncio.gather(*(one(s) for s in batch))
        parallel_s = time.perf_counter() - started
        known = await posts("again", N // 4, page_of=1)
        started = time.perf_counter()
        for status_id in known:
            await fetch_link_card(ctx, FetchLinkCard(status_id))
        known_s = time.perf_counter() - started
        await db.dispose()
    httpd.shutdown()
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")
    print(f"page: {len(_page(1)) / 1024:.0f} KiB of HTML; every 4th with an oEmbed request")
    print(f"image: {len(PHOTO) / 1024:.0f} KiB JPEG, 1200x800, kept at 640x427")
    quantiles = statistics.quantiles(timings, n=100)
    print(
        f"one card at a time ({len(timings)}): median {statistics.median(timings) * 1000:.1f} ms,"
        f" p90 {quantiles[89] * 1000:.1f} ms"
    )
    print(
        f"8 jobs in flight ({len(batch)} cards): {len(batch) / parallel_s:.0f} cards/s"
        f" ({parallel_s:.2f} s)"
    )
    print(
        f"a link with a fresh card ({len(known)} posts, no fetch):"
        f" {known_s / len(known) * 1000:.1f} ms each"
    )
    _results.record(
        "card_fetch",
        {
            "one_median_ms": _results.lower(statistics.median(timings) * 1000, "ms"),
            "one_p90_ms": _results.lower(quantiles[89] * 1000, "ms"),
            "parallel_cards_per_s": _results.higher(len(batch) / parallel_s, "cards/s"),
            "known_each_ms": _results.lower(known_s / len(known) * 1000, "ms"),
        },
    )


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
