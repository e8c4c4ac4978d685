"""Log lines as structured records (JSON for machines, key=value for people).

Every record carries the request id of the request it belongs to (bound by
``roost.observability.http``), so one id from a client's error report finds
every line that request wrote, across libraries: Roost's own loggers, uvicorn's
and SQLAlchemy's all go through the same formatter.
"""

from __future__ import annotations

import logging
import sys

import structlog

from roost.config import LogFormat


def configure_logging(level: str = "info", fmt: LogFormat = LogFormat.TEXT) -> None:
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        # Fields passed as ``extra=`` become keys of the record.
        structlog.stdlib.ExtraAdder(),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if fmt == LogFormat.JSON
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        # uvicorn's own handlers would print a second, unstructured copy.
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
