"""Log lines as structured records (JSON for machines, key=value for people).

Every record carries the request id of the request it belongs to (bound by
``roost.observability.http``), so one id from a client's error report finds
every line that request wrote, across libraries: Roost's own loggers, uvicorn's
and SQLAlchemy's all go through the same formatter, and the same redaction of
credentials (``roost.observability.redact``).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from roost.config import LogFormat
from roost.observability.redact import redact


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
            _drop_color_message,
            structlog.processors.format_exc_info,
            # Last before rendering, so it sees the message, every field and the
            # rendered exception of every record, Roost's or a library's.
            redact,
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
    for name in _QUIET_LIBRARIES:
        # Their debug output is SQL parameters and result rows, raw request
        # lines, headers and form fields: data and secrets, not diagnostics.
        logging.getLogger(name).setLevel(max(root.level, logging.WARNING))


_QUIET_LIBRARIES = (
    "sqlalchemy",
    "aiosqlite",
    "asyncpg",
    "httpcore",
    "httpx",
    "hpack",
    "websockets",
    "multipart",
    "python_multipart",
)


def _drop_color_message(
    _: Any, __: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    # uvicorn passes a colourised copy of its format string as an extra.
    event.pop("color_message", None)
    return event
