"""/api/v1/streaming: live events over Server-Sent Events and WebSocket.

Each connection holds a subscription to the event bus; each event is routed and
rendered for this connection's viewer by roost.api.mastodon.streams, through the
privacy policy, exactly as the REST answer would be.

Heartbeats come every ``ROOST_STREAMING_HEARTBEAT_S`` seconds on a fixed
clock, however busy the stream or the bus: an SSE comment (``:thump``), and on
WebSocket the protocol pings `roost serve` has uvicorn send at the same
interval. A client that hears nothing for a couple of intervals knows its
connection is dead, and the server finds out about a vanished client when
the write (or the unanswered ping) fails. The token is checked again at every
heartbeat, so revoking it ends the stream within one heartbeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import orjson
from fastapi import APIRouter, Depends, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import PlainTextResponse, Response, StreamingResponse
from pydantic import Field
from starlette.requests import HTTPConnection

from roost.api.auth import bearer_token, connection_viewer, services
from roost.api.mastodon.streams import Message, messages_for
from roost.api.openapi import answers
from roost.api.params import Params, query
from roost.domain.oauth.queries import PendingApproval, viewer_for_token
from roost.domain.streams import USER_STREAMS, Stream, parse_stream
from roost.domain.types import Viewer
from roost.errors import Forbidden, Invalid, RoostError, Unauthorized
from roost.streaming.bus import Subscription

router = APIRouter()
log = logging.getLogger("roost.streaming")


def _scope_for(stream: Stream) -> str:
    return "read:notifications" if stream.name == "user:notification" else "read:statuses"


async def _authorise(connection: HTTPConnection, stream: Stream) -> Viewer:
    viewer = await connection_viewer(connection, _scope_for(stream))
    if stream.name in USER_STREAMS and viewer.account_id is None:
        raise Unauthorized("This stream requires an access token")
    return viewer


async def _still_valid(connection: HTTPConnection, viewer: Viewer) -> bool:
    token = bearer_token(connection)
    if token is None:
        return viewer.account_id is None and viewer.token_id is None
    async with services(connection).db.read() as conn:
        try:
            return await viewer_for_token(conn, token) is not None
        except PendingApproval:
            return False


async def _route(
    connection: HTTPConnection, viewer: Viewer, streams: list[Stream], subscription: Subscription
) -> AsyncIterator[Message | None]:
    """Messages for this connection, and None at each heartbeat: every
    heartbeat interval on the clock, not after that long without an event (a
    busy bus, with nothing for this connection, would put heartbeats off
    for ever)."""
    svc = services(connection)
    interval = svc.settings.streaming_heartbeat_s
    clock = asyncio.get_running_loop()
    due = clock.time() + interval
    while not subscription.overflowed:
        wait = due - clock.time()
        event = await subscription.next(wait) if wait > 0 else None
        if event is not None:
            async with svc.db.scope() as reads:
                base = svc.settings.base_url
                for message in await messages_for(reads, viewer, streams, event, base):
                    yield message
        if clock.time() >= due:
            due = clock.time() + interval
            yield None


@router.get(
    "/api/v1/streaming/health",
    response_class=PlainTextResponse,
    responses=answers(description="OK", media_type="text/plain", steady=True),
)
async def health() -> Response:
    return PlainTextResponse("OK")


class StreamParams(Params):
    tag: str | None = Field(default=None, description="The hashtag (hashtag streams)")
    list: str | None = Field(default=None, description="The list's id (the list stream)")


_EVENTS = answers(
    description="Server-Sent Events, until the client leaves or the token is revoked",
    media_type="text/event-stream",
    errors=(401, 403, 422),
)


def _sse_endpoint(name: str, path: str) -> None:
    async def endpoint(
        request: Request, params: StreamParams = Depends(query(StreamParams))
    ) -> Response:
        stream = parse_stream(name, params.model_dump())
        if stream is None:
            raise Invalid("Unknown stream, or a required parameter (tag, list) is missing")
        viewer = await _authorise(request, stream)
        bus = services(request).bus

        async def body() -> AsyncIterator[bytes]:
            async with bus.subscribe() as subscription:
                yield b":)\n\n"
                async for message in _route(request, viewer, [stream], subscription):
                    if message is None:
                        if not await _still_valid(request, viewer):
                            return
                        yield b":thump\n\n"
                    else:
                        yield message.sse().encode()

        return StreamingResponse(
            body(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    endpoint.__name__ = "stream_" + name.replace(":", "_")
    router.add_api_route(path, endpoint, methods=["GET"], response_model=None, responses=_EVENTS)


_sse_endpoint("user", "/api/v1/streaming/user")
_sse_endpoint("user:notification", "/api/v1/streaming/user/notification")
_sse_endpoint("public", "/api/v1/streaming/public")
_sse_endpoint("public:local", "/api/v1/streaming/public/local")
_sse_endpoint("public:remote", "/api/v1/streaming/public/remote")
_sse_endpoint("public:media", "/api/v1/streaming/public/media")
_sse_endpoint("public:local:media", "/api/v1/streaming/public/local/media")
_sse_endpoint("public:remote:media", "/api/v1/streaming/public/remote/media")
_sse_endpoint("hashtag", "/api/v1/streaming/hashtag")
_sse_endpoint("hashtag:local", "/api/v1/streaming/hashtag/local")
_sse_endpoint("direct", "/api/v1/streaming/direct")
_sse_endpoint("list", "/api/v1/streaming/list")


@router.websocket("/api/v1/streaming")
async def websocket(socket: WebSocket) -> None:
    """One socket, many streams: ``{"type": "subscribe", "stream": "hashtag", "tag": "x"}``."""
    streams: list[Stream] = []
    first = parse_stream(socket.query_params.get("stream", ""), dict(socket.query_params))
    try:
        viewer = await connection_viewer(socket, "read:statuses")
    except (Unauthorized, Forbidden, PendingApproval):
        await socket.close(code=4001)
        return
    protocol = socket.headers.get("sec-websocket-protocol")
    await socket.accept(subprotocol=protocol or None)
    if first is not None:
        streams.append(first)

    async def send_error(message: str) -> None:
        await socket.send_text(orjson.dumps({"error": message}).decode())

    async def handle_commands() -> None:
        while True:
            raw = await socket.receive_text()
            try:
                command = orjson.loads(raw)
                kind = command["type"]
                stream = parse_stream(str(command.get("stream", "")), command)
            except (orjson.JSONDecodeError, KeyError, TypeError):
                await send_error("Could not understand that message")
                continue
            if stream is None:
                await send_error("Unknown stream type")
                continue
            if stream.name in USER_STREAMS and viewer.account_id is None:
                await send_error("Missing access token")
                continue
            if kind == "subscribe" and stream not in streams:
                streams.append(stream)
            elif kind == "unsubscribe" and stream in streams:
                streams.remove(stream)

    async def forward() -> None:
        async with services(socket).bus.subscribe() as subscription:
            async for message in _route(socket, viewer, streams, subscription):
                if message is None:
                    if not await _still_valid(socket, viewer):
                        await socket.close(code=4001)
                        return
                    continue
                await socket.send_text(message.websocket_json())
            await socket.close(code=1013)  # fell too far behind: reconnect and catch up

    tasks = [asyncio.create_task(handle_commands()), asyncio.create_task(forward())]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            error = task.exception()
            if error is not None and not isinstance(error, (WebSocketDisconnect, RoostError)):
                log.error("streaming socket failed", exc_info=error)
    except (WebSocketDisconnect, RoostError):
        pass
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(
                asyncio.CancelledError, WebSocketDisconnect, RuntimeError, Exception
            ):
                await task
