"""Refusals written by the HTTP protocol itself, before any ASGI work.

Under overload most requests are refused (roost/api/admission.py), and every
refusal takes a turn of the one event loop that the admitted requests need:
through ASGI a refusal is a scope, a task, a receive/send pair and two
messages, about a tenth of a home timeline. Clients that ask again the moment
they are refused then keep the loop busy with refusals, and the admitted
requests wait behind them.

This protocol (uvicorn's httptools protocol, one method changed) asks the
process's admission control as soon as a request's headers are parsed, and
when the answer is no, writes the prepared 503 to the socket there and then:
no task, no scope beyond what the parser made. It also reserves the place of
each request it lets through, so that requests arriving in the same turn of
the loop see each other (a task started now runs only in the next turn, when
the in-flight count would be too late to stop the rest).

What it leaves to the ASGI path: health checks and streams (never refused
here), pipelined requests (rare; uvicorn queues them), WebSocket upgrades,
and the queue-time check, which needs the request's start in a turn of the
loop. Only uvicorn's httptools protocol is extended; where it is not
installed (h11), admission control works as before, in ASGI only.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from roost.api.admission import Admission, Refusal

STATUS_503 = b"HTTP/1.1 503 Service Unavailable\r\n"
# How long a connection that was just refused is not read from. A client that
# asks again the moment it is refused (as load generators, and some apps, do)
# would otherwise be answered as fast as the loop can write refusals, and a
# cheaper refusal only means more of them: the loop stays full of refusals and
# the admitted requests wait behind them. Not reading for a moment caps each
# connection at PAUSE_S's rate of refusals; its next request waits at most
# this long in the kernel's buffer before it is decided (a client that honours
# Retry-After never notices). Measured in bench/overload.py.
PAUSE_S = 0.05


class _Answered:
    """Stands in for uvicorn's request cycle once the refusal is written: the
    request's body, if any, is dropped, and a lost connection finds nothing
    to wake."""

    response_complete = True
    disconnected = False
    keep_alive = True

    class message_event:  # uvicorn calls cycle.message_event.set()
        @staticmethod
        def set() -> None:
            return None


ANSWERED: Any = _Answered()


class EarlyRefusingProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with refusals written before ASGI."""

    # Set by ``install`` before the server starts (one app per process).
    admission: Admission | None = None

    def on_headers_complete(self) -> None:
        admission = self.admission
        existing = self.cycle
        if (
            admission is None
            or (existing is not None and not existing.response_complete)
            or self.parser.should_upgrade()
        ):
            super().on_headers_complete()
            return
        path = httptools.parse_url(self.url).path.decode("ascii", "replace")
        verdict = admission.early(path)
        if verdict is None:
            super().on_headers_complete()
            return
        if not isinstance(verdict, Refusal):
            # Admitted: its place is held until the ASGI path takes it, and
            # its time in flight counts from now.
            self.scope[Admission.RESERVED] = admission.now()  # type: ignore[literal-required]
            super().on_headers_complete()
            return
        self._refuse(verdict.head, verdict.body)

    def _refuse(self, head: bytes, body: bytes) -> None:
        keep_alive = self.parser.get_http_version() != "1.0" and self.parser.should_keep_alive()
        parts = [STATUS_503]
        for name, value in self.server_state.default_headers:
            parts += [name, b": ", value, b"\r\n"]
        parts.append(head)
        if not keep_alive:
            parts.append(b"connection: close\r\n")
        parts += [b"\r\n", body]
        self.cycle = ANSWERED
        self.transport.write(b"".join(parts))
        if not keep_alive:
            self.transport.close()
            return
        self.on_response_complete()
        # Not through uvicorn's flow control, whose own pauses (a slow reader,
        # a pipeline) resume on their own flag.
        self.transport.pause_reading()
        self.loop.call_later(PAUSE_S, self._resume_after_refusal)

    def _resume_after_refusal(self) -> None:
        if not self.transport.is_closing():
            self.transport.resume_reading()


def install(admission: object) -> type[asyncio.Protocol]:
    """The protocol class for uvicorn's ``http`` setting, refusing for
    ``admission`` (the app's; anything else leaves the ASGI path to decide)."""

    class Protocol(EarlyRefusingProtocol):
        pass

    Protocol.admission = admission if isinstance(admission, Admission) else None
    return Protocol
