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
from typing import Any, cast

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from roost.api.admission import Admission
from roost.api.refusals import Refusal

STATUS_503 = b"HTTP/1.1 503 Service Unavailable\r\n"
# The least time between two refusals written on one connection. A client
# that asks again the moment it is refused (as load generators, and some
# apps, do) would otherwise be answered as fast as the loop can write
# refusals, and a cheaper refusal only means more of them: the loop stays full
# of refusals and the admitted requests wait behind them. So a connection's
# first refusal is written at once, and one that comes sooner than this after
# the last is held back until this long after it, the connection not read
# from meanwhile (with HTTP/1.1 the client sends nothing more until it has its
# answer). Holding the answer, not the next request, matters: a request left
# unread in the kernel's buffer and then admitted would carry the pause in its
# own latency (bench/overload.py: nearly every admitted request slower than
# 50 ms was one of those), while a request that is read is decided on arrival.
# A client that honours Retry-After never meets the pause.
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


class _Held:
    """Stands in for uvicorn's request cycle while a refusal's answer is held
    back (``PAUSE_S``): incomplete, so that a pipelined request queues behind
    it; the request's body, if any, is dropped."""

    def __init__(self) -> None:
        self.response_complete = False
        self.disconnected = False
        self.keep_alive = True  # uvicorn's graceful shutdown clears it
        self.more_body = True
        self.message_event = _Answered.message_event

    @property
    def body(self) -> bytes:
        return b""

    @body.setter
    def body(self, _dropped: bytes) -> None:
        return None


class EarlyRefusingProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with refusals written before ASGI."""

    # Set by ``install`` before the server starts (one app per process).
    admission: Admission | None = None
    # When this connection's last refusal was written (the loop's clock).
    _refused_at = float("-inf")

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
        verdict = admission.early(path, self.parser.get_method(), self.headers)
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
        answer = b"".join(parts)
        if not keep_alive:
            self.cycle = ANSWERED
            self.transport.write(answer)
            self.transport.close()
            return
        wait = self._refused_at + PAUSE_S - self.loop.time()
        if wait <= 0:
            self.cycle = ANSWERED
            self._write_refusal(answer)
            return
        # Asked again at once: the answer waits, and so does the connection.
        # Not through uvicorn's flow control, whose own pauses (a slow reader,
        # a pipeline) resume on their own flag.
        held = _Held()
        self.cycle = cast(Any, held)
        self.transport.pause_reading()
        self.loop.call_later(wait, self._answer_held, held, answer)

    def _write_refusal(self, answer: bytes) -> None:
        self.transport.write(answer)
        self._refused_at = self.loop.time()
        self.on_response_complete()

    def _answer_held(self, held: _Held, answer: bytes) -> None:
        held.response_complete = True
        if self.transport.is_closing():
            return  # the client went away, or the server is shutting down
        self.transport.resume_reading()
        if not held.keep_alive:  # a graceful shutdown began meanwhile
            self.transport.write(answer)
            self.transport.close()
            return
        self._write_refusal(answer)


def install(admission: object) -> type[asyncio.Protocol]:
    """The protocol class for uvicorn's ``http`` setting, refusing for
    ``admission`` (the app's; anything else leaves the ASGI path to decide)."""

    class Protocol(EarlyRefusingProtocol):
        pass

    Protocol.admission = admission if isinstance(admission, Admission) else None
    return Protocol
