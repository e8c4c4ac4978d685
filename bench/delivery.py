"""Federation delivery: how fast one worker delivers, and what a dead server costs the rest.

    .venv/bin/python -m bench.delivery [--inboxes 1000] [--hosts 50] [--dead 100]

Builds a fresh embedded data directory with one local account, and starts a
sink on loopback: ``--hosts`` listening ports (each a host of its own to
Roost, as ``127.0.0.1:PORT``), answering every POST ``202`` as an inbox does,
and noting when each arrived. Then, each time on a fresh data directory:

1. **healthy**: ``--inboxes`` signed deliveries (the ``Deliver`` jobs a post
   to that many followers' inboxes leaves, sealed and signed as in
   production), spread over the hosts, are queued; one ``roost worker``
   process is started and the time from its first delivery to the last is
   taken: deliveries per second per worker.
2. **with a dead server**: the same deliveries, with ``--dead`` more to a
   server that accepts connections and never answers (the worst kind: each
   attempt waits for the whole ``ROOST_OUTBOUND_TIMEOUT_S``) queued among
   them, interleaved. The time until every healthy delivery has arrived,
   against step 1's, is the delay the dead server added to the others
   (target: none, within the run-to-run noise).

Prints both, and the dead server's attempts (connections it was sent):
the host breaker should keep them to one per backoff step.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bench import _results, _server

OUTBOUND_TIMEOUT_S = 5
LIMIT_S = 300.0


@dataclass
class Sink:
    """Inboxes on loopback: every POST answered 202, its arrival noted."""

    ports: list[int] = field(default_factory=list)
    dead_port: int = 0
    arrivals: dict[str, float] = field(default_factory=dict)
    dead_connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def arrived(self, path: str) -> None:
        with self.lock:
            self.arrivals.setdefault(path, time.perf_counter())

    def reset(self) -> None:
        with self.lock:
            self.arrivals.clear()
            self.dead_connections = 0


class _Inbox(asyncio.Protocol):
    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self.buffer[:head_end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            end = head_end + 4 + length
            if len(self.buffer) < end:
                return
            path = head.split(" ", 2)[1]
            self.buffer = self.buffer[end:]
            self.sink.arrived(path)
            assert self.transport is not None
            self.transport.write(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n")


class _Dead(asyncio.Protocol):
    """Takes the connection and the request, and never answers."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        with self.sink.lock:
            self.sink.dead_connections += 1


@contextlib.contextmanager
def sink(hosts: int) -> Iterator[Sink]:
    found = Sink()
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    async def open_servers() -> None:
        for _ in range(hosts):
            server = await loop.create_server(lambda: _Inbox(found), _server.HOST, 0)
            found.ports.append(server.sockets[0].getsockname()[1])
        dead = await loop.create_server(lambda: _Dead(found), _server.HOST, 0)
        found.dead_port = dead.sockets[0].getsockname()[1]
        ready.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(open_servers())
        loop.run_forever()

    thread = threading.Thread(target=run, name="inbox-sink", daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield found
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


def _inboxes(found: Sink, count: int) -> list[str]:
    return [
        f"http://{_server.HOST}:{found.ports[n % len(found.ports)]}/users/follower{n}/inbox"
        for n in range(count)
    ]


def _queue(data_dir: Path, inboxes: list[str]) -> None:
    """One local account, and a Deliver job per inbox, as a post leaves them."""
    from roost.config import load_settings
    from roost.db.engine import Database
    from roost.db.migrate import upgrade
    from roost.domain.accounts import passwords
    from roost.domain.accounts.actions import NewAccount, do_create_account
    from roost.domain.federation.delivery import enqueue_delivery
    from roost.process import prepare_process

    async def body() -> None:
        passwords.use_fast_hashing_for_tests()
        settings = load_settings(
            data_dir=data_dir, database_url="", redis_url="", domain="localhost"
        )
        prepare_process(settings)
        db = Database(settings)
        try:
            await upgrade(db)
            async with db.write() as tx:
                sender = await do_create_account(
                    tx, NewAccount("sender", "sender@example.org", "a long enough password")
                )
            async with db.write() as tx:
                for n, inbox in enumerate(inboxes):
                    activity = {
                        "@context": "https://www.w3.org/ns/activitystreams",
                        "id": f"https://localhost/users/sender/statuses/{n}/activity",
                        "type": "Create",
                        "actor": "https://localhost/users/sender",
                        "object": {"type": "Note", "content": f"<p>post {n}</p>"},
                    }
                    await enqueue_delivery(tx, inbox, sender, activity)
        finally:
            await db.dispose()

    asyncio.run(body())


@dataclass(frozen=True)
class Run:
    healthy_s: float  # the worker's first delivery to the last healthy one
    started_s: float  # the worker's start to its first delivery
    dead_connections: int


def _deliver(found: Sink, inboxes: list[str], healthy: set[str], scratch: Path, name: str) -> Run:
    data_dir = scratch / name
    _queue(data_dir, inboxes)
    found.reset()
    settings = {
        "federation_allow_insecure": "true",
        "outbound_timeout_s": str(OUTBOUND_TIMEOUT_S),
    }
    log_path = data_dir / "worker.log"
    with log_path.open("ab") as log:
        worker = subprocess.Popen(
            [str(_server.ROOST), "worker", "--log-level", "warning"],
            env=_server.server_env(data_dir, **settings),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    started = time.perf_counter()
    try:
        while True:
            with found.lock:
                arrived = sum(1 for path in healthy if path in found.arrivals)
                times = [found.arrivals[path] for path in healthy if path in found.arrivals]
            if arrived == len(healthy):
                break
            if worker.poll() is not None:
                raise RuntimeError(f"roost worker exited: {log_path.read_text()[-2000:]}")
            if time.perf_counter() - started > LIMIT_S:
                raise RuntimeError(f"{arrived} of {len(healthy)} delivered in {LIMIT_S:.0f}s")
            time.sleep(0.01)
    finally:
        _server.stop(worker)
    first, last = min(times), max(times)
    return Run(last - first, first - started, found.dead_connections)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inboxes", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--dead", type=int, default=100)
    args = parser.parse_args(argv)

    print(_server.machine())
    with sink(args.hosts) as found, tempfile.TemporaryDirectory(prefix="roost-bench-") as tmp:
        scratch = Path(tmp)
        healthy_inboxes = _inboxes(found, args.inboxes)
        healthy = {urlsplit(inbox).path for inbox in healthy_inboxes}
        dead_inboxes = [
            f"http://{_server.HOST}:{found.dead_port}/users/gone{n}/inbox" for n in range(args.dead)
        ]
        mixed: list[str] = []
        every = max(1, args.inboxes // max(1, args.dead))
        for n, inbox in enumerate(healthy_inboxes):
            mixed.append(inbox)
            if n % every == 0 and dead_inboxes:
                mixed.append(dead_inboxes.pop())
        mixed += dead_inboxes

        alone = _deliver(found, healthy_inboxes, healthy, scratch, "healthy")
        rate = args.inboxes / alone.healthy_s if alone.healthy_s else float("inf")
        print(
            f"healthy: {args.inboxes} deliveries to {args.hosts} hosts in "
            f"{alone.healthy_s:.2f}s: {rate:.0f} deliveries/s per worker "
            f"(worker start to first delivery {alone.started_s:.2f}s)"
        )
        beside = _deliver(found, mixed, healthy, scratch, "dead")
        delay = beside.healthy_s - alone.healthy_s
        print(
            f"with a dead server ({args.dead} deliveries to it among them, "
            f"{OUTBOUND_TIMEOUT_S}s timeout): the healthy ones took {beside.healthy_s:.2f}s, "
            f"{delay:+.2f}s against alone ({delay / alone.healthy_s:+.0%}); "
            f"connections the dead server was sent: {beside.dead_connections}"
        )
        _results.record(
            "delivery",
            {
                "deliveries_per_s": _results.higher(rate, "1/s"),
                "dead_server_delay_s": _results.lower(max(0.0, delay), "s"),
                "dead_server_connections": _results.lower(beside.dead_connections),
            },
            extra={
                "inboxes": args.inboxes,
                "hosts": args.hosts,
                "dead": args.dead,
                "outbound_timeout_s": OUTBOUND_TIMEOUT_S,
            },
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
