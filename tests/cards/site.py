"""A small website on 127.0.0.1 for the card tests: pages with OpenGraph
and oEmbed, redirects, an oversize page, a slow one. Each request is counted
by path, so tests can tell how often Roost fetched."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Site:
    url: str = ""
    pages: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    agents: list[str] = field(default_factory=list)
    slow_s: float = 3.0
    # Paths whose requests wait for one another: each answers only once as
    # many requests as the barrier's parties are in, so a test can make sure
    # two fetches truly overlapped instead of hoping the scheduler does.
    together: dict[str, threading.Barrier] = field(default_factory=dict)

    def page(self, path: str, body: str, *, status: int = 200, kind: str = "text/html") -> None:
        self.pages[path] = (status, {"Content-Type": kind}, body.encode())

    def file(self, path: str, data: bytes, kind: str) -> None:
        self.pages[path] = (200, {"Content-Type": kind}, data)

    def redirect(self, path: str, to: str) -> None:
        self.pages[path] = (302, {"Location": to}, b"")


def opengraph(title: str, **meta: str) -> str:
    tags = "".join(f'<meta property="og:{name}" content="{value}">' for name, value in meta.items())
    return (
        f'<!doctype html><html lang="en"><head><title>{title} (tab)</title>'
        f'<meta property="og:title" content="{title}">{tags}</head>'
        "<body><p>The article itself.</p></body></html>"
    )


def handler_for(site: Site) -> type[BaseHTTPRequestHandler]:
    """The request handler serving ``site``'s pages."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            site.hits[path] += 1
            site.agents.append(self.headers.get("User-Agent", ""))
            if path == "/slow":
                time.sleep(site.slow_s)
            if path in site.together:
                with contextlib.suppress(threading.BrokenBarrierError):
                    site.together[path].wait(timeout=10)
            status, headers, body = site.pages.get(path, (404, {}, b"missing"))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextlib.contextmanager
def serving(host: str = "127.0.0.1") -> Iterator[Site]:
    site = Site()
    httpd = ThreadingHTTPServer((host, 0), handler_for(site))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    site.url = f"http://{host}:{httpd.server_address[1]}"
    try:
        yield site
    finally:
        httpd.shutdown()
        httpd.server_close()
