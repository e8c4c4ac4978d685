"""The 503 answers of admission control (roost/api/admission.py), built once.

An app or another server reads Mastodon's ``{"error": ...}``. A person whose
browser asked for a page would see that JSON as the page itself, and a page
refused while an overload lasts is a person waiting: browsers get a small
page of their own instead (no stylesheet or script, which would be refused
too), which for a GET loads itself again after ``Retry-After``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import orjson

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{refresh}<title>Busy</title>
</head>
<body style="font-family: sans-serif; max-width: 32rem; margin: 4rem auto; padding: 0 1rem">
<h1>This server is busy</h1>
<p>{advice}</p>
</body>
</html>
"""
_AGAIN = "This page will load again in a moment."
_BACK = "Nothing was done. Go back and try again in a moment."


@dataclass(frozen=True)
class Refusal:
    """A 503 answer, built once."""

    headers: list[tuple[bytes, bytes]]
    body: bytes
    # The header lines as written on the wire (roost/api/early_refusal.py).
    head: bytes

    @classmethod
    def of(cls, message: str, retry_after: int, extra: Sequence[tuple[bytes, bytes]]) -> Refusal:
        """Mastodon's error entity, for apps and other servers."""
        body = orjson.dumps({"error": message})
        return cls._built(b"application/json; charset=utf-8", body, retry_after, extra)

    @classmethod
    def page(
        cls, retry_after: int, extra: Sequence[tuple[bytes, bytes]], *, reload: bool
    ) -> Refusal:
        """A page for a browser; with ``reload``, one that asks again by itself."""
        refresh = f'<meta http-equiv="refresh" content="{retry_after}">\n' if reload else ""
        body = _PAGE.format(refresh=refresh, advice=_AGAIN if reload else _BACK).encode()
        return cls._built(b"text/html; charset=utf-8", body, retry_after, extra)

    @classmethod
    def _built(
        cls, kind: bytes, body: bytes, retry_after: int, extra: Sequence[tuple[bytes, bytes]]
    ) -> Refusal:
        headers = [
            (b"content-type", kind),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(retry_after).encode()),
            *extra,
        ]
        head = b"".join(name + b": " + value + b"\r\n" for name, value in headers)
        return cls(headers, body, head)


@dataclass(frozen=True)
class Refusals:
    """One busy answer per kind of asker."""

    data: Refusal  # apps, other servers, scripts
    page: Refusal  # a browser loading a page: it loads again by itself
    form: Refusal  # a browser sending a form: the person is told to go back

    @classmethod
    def busy(cls, message: str, retry_after: int, extra: Sequence[tuple[bytes, bytes]]) -> Refusals:
        return cls(
            Refusal.of(message, retry_after, extra),
            Refusal.page(retry_after, extra, reload=True),
            Refusal.page(retry_after, extra, reload=False),
        )

    def for_request(self, method: bytes, headers: Iterable[tuple[bytes, bytes]]) -> Refusal:
        """The answer for a request with this method and these (lower-cased) headers."""
        for name, value in headers:
            if name == b"accept":
                if b"text/html" not in value:
                    break
                return self.page if method in (b"GET", b"HEAD") else self.form
        return self.data
