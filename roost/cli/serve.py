"""roost serve and roost worker"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import socket
import time

import typer
import uvicorn

from roost.cli.base import app, fail, run_with_db, settings_or_exit
from roost.config import Settings
from roost.db.engine import Database

log = logging.getLogger("roost.worker")


async def _migrated(settings: Settings, db: Database) -> None:
    return None


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on"),
    port: int = typer.Option(8000, "--port", help="Port to listen on"),
    log_level: str = typer.Option("info", "--log-level", help="debug, info, warning, error"),
) -> None:
    """Run the server (embedded by default: SQLite and local files in ROOST_DATA_DIR)."""
    started = time.monotonic()
    settings = settings_or_exit()
    listener = _listen(host, port)
    # Migrate (or refuse a schema newer than this release) before uvicorn: a
    # refusal then reads as one line, not as a failed start-up in its log.
    run_with_db(_migrated)
    from roost.api import early_refusal
    from roost.app import create_app
    from roost.db.migrate import SchemaTooNew
    from roost.observability.logs import configure_logging
    from roost.observability.metrics import process_started_at

    configure_logging(log_level, settings.log_format)
    url = f"http://{host}:{listener.getsockname()[1]}"

    def set_aside_startup_objects() -> None:
        # Everything made while starting (modules, routes, compiled
        # statements) lives as long as the server: out of the collector's
        # sight, a full collection under load took 15 ms instead of 120 ms,
        # and those pauses were the slowest requests' latency. What start-up
        # left as garbage is collected first, not kept forever. (Only here, in
        # a process that runs one app for its whole life: tests make many.)
        gc.collect()
        gc.freeze()

    def ready() -> None:
        # A second after the first answer can be given, not before it: the
        # collection takes about 0.1 s.
        asyncio.get_running_loop().call_later(1.0, set_aside_startup_objects)
        typer.secho(
            f"Roost is ready at {url} ({time.monotonic() - started:.2f}s)",
            fg=typer.colors.GREEN,
            err=True,
        )
        typer.echo(
            f"  data directory: {settings.data_dir.resolve()}\n"
            f"  database:       {'SQLite (embedded)' if settings.is_sqlite else 'PostgreSQL'}\n"
            "  first account:  .venv/bin/roost accounts create NAME --email you@example.org "
            "--admin\n"
            "  a token:        .venv/bin/roost tokens create NAME",
            err=True,
        )

    roost_app = create_app(settings, on_ready=ready, began_at=process_started_at())
    config = uvicorn.Config(
        roost_app,
        host=host,
        port=port,
        log_level=log_level,
        loop="auto",
        # uvicorn's httptools protocol, writing admission control's refusals
        # before any ASGI work (roost/api/early_refusal.py).
        http=early_refusal.install(getattr(roost_app, "admission", None)),
        proxy_headers=True,
        server_header=False,
        # Logging is configured above (structured, with request ids); the
        # access record comes from roost.observability.http.
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=15,
        # Streaming sockets are pinged at the heartbeat interval; one that has
        # not answered within three is closed (its client is gone).
        ws_ping_interval=settings.streaming_heartbeat_s,
        ws_ping_timeout=3 * settings.streaming_heartbeat_s,
    )
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[listener])
    except SchemaTooNew as error:
        raise fail(str(error)) from None
    if not server.started:
        raise typer.Exit(1)


def _listen(host: str, port: int) -> socket.socket:
    """The server's socket, bound before anything else starts: a port in use is
    a one-line failure, not a server that says it is ready and then exits.

    Bound, not yet listening: until the app has started (uvicorn listens then),
    connections are refused at once rather than left waiting.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as error:
        raise fail(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as error:
        sock.close()
        raise fail(
            f"cannot listen on {host}:{port}: {error.strerror or error}; "
            "pick another --port or stop what uses it"
        ) from None
    return sock


@app.command()
def worker(
    concurrency: int = typer.Option(
        2, "--concurrency", min=1, max=64, help="Jobs run at once by this process"
    ),
    log_level: str = typer.Option("info", "--log-level", help="debug, info, warning, error"),
    metrics_port: int = typer.Option(
        0,
        "--metrics-port",
        min=0,
        max=65535,
        help="Serve this worker's Prometheus metrics (job durations) on 127.0.0.1:PORT",
    ),
) -> None:
    """Run background jobs only (scaled mode; set ROOST_RUN_JOBS_IN_PROCESS=false on servers).

    SIGTERM (or Ctrl-C) finishes the jobs in hand, hands back the rest and exits.
    With --metrics-port, Prometheus scrapes the jobs this worker ran (their
    durations by kind) from http://127.0.0.1:PORT/metrics.
    """
    from roost.domain.federation.upkeep import keep_upkeep
    from roost.jobs.runner import JobRunner
    from roost.observability.logs import configure_logging
    from roost.services import build_services

    async def body(settings: Settings, db: Database) -> None:
        svc = build_services(settings, db)
        # Each runner claims a couple of jobs at a time: a long batch held by
        # one worker is work another idle worker cannot take.
        runners = [JobRunner(svc.job_context(), batch=2) for _ in range(concurrency)]
        exporter = None
        if metrics_port:
            from prometheus_client import start_http_server

            try:
                exporter, _ = start_http_server(
                    metrics_port, addr="127.0.0.1", registry=svc.metrics.registry
                )
            except OSError as error:
                raise fail(
                    f"cannot serve metrics on 127.0.0.1:{metrics_port}: {error.strerror or error}"
                ) from None
        svc.metrics.mark_ready()

        def stop() -> None:
            for runner in runners:
                runner.stop()

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop)
        log.info("roost worker: running jobs with %s runner(s)", concurrency)
        upkeep = asyncio.create_task(keep_upkeep(svc.db, settings), name="roost-upkeep")
        try:
            await asyncio.gather(*(r.run_forever() for r in runners))
        finally:
            upkeep.cancel()
            if exporter is not None:
                exporter.shutdown()
            if svc.redis is not None:
                await svc.redis.close()
        log.info("roost worker: stopped")

    configure_logging(log_level, settings_or_exit().log_format)
    run_with_db(body)
