"""/api/v1/streaming: live events over Server-Sent Events and WebSocket.

Each connection holds a subscription to the event bus; each event is routed and
rendered for this connection's viewer by roost.streaming.router, through the
privacy policy, exactly as the REST answer would be. The token is checked again
at every heartbeat, so revoking it ends the stream within one heartbeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import orjson
from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import PlainTextResponse, Response, StreamingResponse
from starlette.requests import HTTPConnection

from roost.api.auth import bearer_token, connection_viewer, services
from roost.domain.oauth.queries import PendingApproval, viewer_for_token
from roost.domain.types import Viewer
from roost.errors import Forbidden, Invalid, RoostError, Unauthorized
from roost.streaming.bus import Subscription
from roost.streaming.router import (
    USER_STREAMS,
    Message,
    Stream,
    messages_for,
    parse_stream,
)

router = APIRouter()
log = logging.getLogger("roost.streaming")

HEARTBEAT_S = 15.0


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
    """Messages for this connection; None at each heartbeat with nothing to send."""
    svc = services(connection)
    while not subscription.overflowed:
        event = await subscription.next(HEARTBEAT_S)
        if event is None:
            yield None
            continue
        async with svc.db.scope() as reads:
            for message in await messages_for(reads, viewer, streams, event, svc.settings.base_url):
                yield message


@router.get("/api/v1/streaming/health")
async def health() -> Response:
    return PlainTextResponse("OK")


def _sse_endpoint(name: str) -> None:
    async def endpoint(request: Request) -> Response:
        stream = parse_stream(name, dict(request.query_params))
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
    path = "/api/v1/streaming/" + name.replace(":", "/")
    router.add_api_route(path, endpoint, methods=["GET"], response_model=None)


for _name in (
    "user",
    "user:notification",
    "public",
    "public:local",
    "public:remote",
    "public:media",
    "public:local:media",
    "public:remote:media",
    "hashtag",
    "hashtag:local",
    "direct",
):
    _sse_endpoint(_name)


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
