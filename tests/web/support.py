"""Helpers for the web tests: a real SMTP server (aiosmtpd) that keeps what
it receives, and reading forms out of pages."""

from __future__ import annotations

import re
import socket
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from html import unescape
from typing import Any

import httpx
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Mailbox:
    """What the SMTP server received, in order."""

    messages: list[Message] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Message]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.messages) >= count, f"expected {count} mails, got {len(self.messages)}"
        return self.messages

    def link(self, index: int = -1) -> str:
        """The one link in a received mail's body."""
        body = self.messages[index].get_payload(decode=True)
        assert isinstance(body, bytes)
        found = re.search(r"https?://\S+token=\S+", body.decode())
        assert found is not None, body
        return found.group(0)


def start_mailbox() -> tuple[Mailbox, Controller]:
    box = Mailbox(port=free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    return box, controller


def field_value(html: str, name: str) -> str:
    found = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html)
    assert found is not None, f"no field {name} in the page"
    return unescape(found.group(1))


def csrf(html: str) -> str:
    return field_value(html, "csrf_token")


class Browser:
    """Another browser on the same app: the test's one client (and so its
    event loop, which the database connections belong to) with a cookie jar
    of its own."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.cookies = httpx.Cookies()

    def get(self, url: str, **kwargs: Any) -> Any:
        return self._send("get", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        return self._send("post", url, **kwargs)

    def _send(self, method: str, url: str, **kwargs: Any) -> Any:
        saved = self.client.cookies
        self.client.cookies = self.cookies
        try:
            return getattr(self.client, method)(url, **kwargs)
        finally:
            self.cookies = self.client.cookies
            self.client.cookies = saved
