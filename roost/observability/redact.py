"""Keeping secrets out of log lines.

Roost's own records name routes, never raw URLs, but other code writes what it
was handed: uvicorn logs a WebSocket's path with its query string (where
streaming clients put ``access_token``), libraries log request lines and
headers at debug level, and an exception's message can quote a URL. Every
record passes through ``redact`` on its way to the log, whoever wrote it.

What is masked (the value becomes ``[redacted]``, the name stays):

- query and form parameters named like a credential (``access_token=...``,
  ``client_secret=...``, ``password=...``, ``code=...``, a media URL's
  ``signature=...``), also percent-encoded as ``name%3D...``;
- the same names as keys of a record or of a quoted mapping
  (``"password": "..."``);
- ``Bearer``/``Basic`` credentials, and the values of Authorization, Cookie,
  Set-Cookie and Sec-WebSocket-Protocol headers (a streaming client's token
  may travel as the subprotocol).
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any

MASK = "[redacted]"

SECRET_NAMES = (
    "access_token",
    "refresh_token",
    "id_token",
    "token",
    "code",
    "code_verifier",
    "client_secret",
    "password",
    "current_password",
    "new_password",
    "csrf_token",
    "secret",
    "secret_key",
    "signature",
    "authorization",
    "cookie",
)
_NAMES = "|".join(sorted(SECRET_NAMES, key=len, reverse=True))

# name=value in a query string, a form body or key=value output. The name must
# not be the tail of a longer word (``status_code=500`` stays).
_PARAMETER = re.compile(
    rf"(?i)(?<![A-Za-z0-9_])({_NAMES})(=|%3D)([^&\s\"'<>;,)\]]+)",
)
# "name": "value" and 'name': 'value' in a rendered mapping.
_QUOTED = re.compile(rf"(?i)([\"'])({_NAMES})\1(\s*:\s*)([\"'])(.*?)(?<!\\)\4")
_SCHEME = re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]+")
# A header as a line ("Cookie: a=b") or as a pair ((b'cookie', b'a=b')).
_HEADER = re.compile(
    r"(?i)\b(authorization|proxy-authorization|cookie|set-cookie|sec-websocket-protocol)"
    r"(\s*:\s*|['\"]\s*,\s*b?['\"])([^'\"\r\n]+)"
)
_SECRET_KEYS = frozenset(SECRET_NAMES)


def redact_text(text: str) -> str:
    """``text`` with every credential it carries masked."""
    if not text:
        return text
    text = _HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = _SCHEME.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = _QUOTED.sub(
        lambda m: f"{m.group(1)}{m.group(2)}{m.group(1)}{m.group(3)}{m.group(4)}{MASK}{m.group(4)}",
        text,
    )
    return _PARAMETER.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, bytes):
        return redact_text(value.decode("utf-8", "replace"))
    if isinstance(value, dict):
        return {
            k: MASK if str(k).lower() in _SECRET_KEYS else _redact_value(v)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_redact_value(v) for v in value]
    return value


def redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A structlog processor: mask credentials in every field of a record,
    including the rendered exception. Runs last before rendering."""
    for key in list(event):
        if key.startswith("_"):
            continue  # structlog's own (the stdlib record), never rendered
        if key.lower() in _SECRET_KEYS:
            event[key] = MASK
        else:
            event[key] = _redact_value(event[key])
    return event
