"""Reading the ``window.YTD.<name>.partN = [...]`` files of a Twitter archive.

The files are JavaScript only in their first line: after the assignment comes
one JSON array. Nothing is evaluated; the prefix is matched and the array is
read one element at a time with the standard library's JSON decoder, from a
buffer that holds little more than the element being read, so a 2 GB
``tweets.js`` costs the memory of one tweet, not of the file.

Direct-message files nest every message of a conversation inside one element;
``conversation_messages`` walks into that element and yields the messages one
by one, so a long conversation is streamed too.

Every failure is an ``ArchiveFormatError`` naming the file and what was wrong.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from typing import IO, Any

from roost.errors import Invalid

CHUNK_CHARS = 1 << 20
# One element (a tweet, a like, a message) larger than this is not a real
# archive's: refusing it keeps memory bounded whatever the file holds.
MAX_ELEMENT_CHARS = 64 << 20

_YTD = re.compile(r"\s*window\.YTD\.([A-Za-z0-9_]+)\.part(\d+)\s*=\s*")
_MANIFEST = re.compile(r"\s*window\.__THAR_CONFIG\s*=\s*")
_OLD_LAYOUT = re.compile(r"\s*(?:var\s+)?Grailbird\.")
_WHITESPACE = " \t\r\n"


class ArchiveFormatError(Invalid):
    """A file of the archive is not what a Twitter archive contains."""


class _Cursor:
    """A window on a text stream: peek, expect a character, decode one value."""

    def __init__(self, stream: IO[bytes], name: str) -> None:
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.name = name
        self.buf = ""
        self.pos = 0
        self.eof = False
        self._consumed = 0  # characters dropped from the front of the buffer

    def _more(self) -> bool:
        if self.eof:
            return False
        raw = self._stream.read(CHUNK_CHARS)
        try:
            text = self._decoder.decode(raw, final=not raw)
        except UnicodeDecodeError:
            raise self.error("it is not UTF-8 text") from None
        if not raw:
            self.eof = True
        if self.pos > CHUNK_CHARS:
            # Drop what was read already so the buffer stays near one chunk.
            self._consumed += self.pos
            self.buf = self.buf[self.pos :]
            self.pos = 0
        self.buf += text
        return bool(text) or not self.eof

    def error(self, what: str) -> ArchiveFormatError:
        offset = self._consumed + self.pos
        return ArchiveFormatError(
            f"The archive file {self.name} cannot be read: {what} (near character {offset})"
        )

    def skip_space(self) -> None:
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in _WHITESPACE:
                self.pos += 1
            if self.pos < len(self.buf) or not self._more():
                return

    def peek(self) -> str:
        self.skip_space()
        return self.buf[self.pos] if self.pos < len(self.buf) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            found = self.peek() or "the end of the file"
            raise self.error(f"expected {char!r} but found {found!r}")
        self.pos += 1

    def head(self, size: int) -> str:
        while len(self.buf) - self.pos < size and self._more():
            pass
        return self.buf[self.pos : self.pos + size]

    def value(self) -> Any:
        """Decode the JSON value at the cursor, reading more until it is whole."""
        self.skip_space()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as problem:
                if self.eof or _broken_before_end(problem, len(self.buf)):
                    self.pos = problem.pos
                    raise self.error(f"broken JSON ({problem.msg})") from None
                if len(self.buf) - self.pos > MAX_ELEMENT_CHARS:
                    raise self.error("one entry is larger than any real archive's") from None
                self._more()
                continue
            # A number may go on past what the buffer holds ("1." of "1.5"
            # decodes as 1): read on until something ends it.
            if not self.eof and _may_continue(value, self.buf, end):
                self._more()
                continue
            self.pos = end
            return value


_DECODER = json.JSONDecoder()


_NUMBER_CHARS = frozenset("0123456789.eE+-")


def _may_continue(value: Any, buf: str, end: int) -> bool:
    if end >= len(buf):
        return True
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    rest = end
    while rest < len(buf) and buf[rest] in _NUMBER_CHARS:
        rest += 1
    return rest >= len(buf)


def _broken_before_end(problem: json.JSONDecodeError, length: int) -> bool:
    """Whether the error is real, not just the buffer ending mid-value.

    Input cut short fails at its very end (an escape within its last few
    characters), except an unfinished string, which is reported where it starts.
    """
    if problem.msg.startswith("Unterminated string"):
        return False
    return problem.pos < length - 8


def _open_array(cursor: _Cursor) -> str:
    """Match the ``window.YTD.<name>.partN =`` prefix; returns ``<name>``."""
    head = cursor.head(300)
    match = _YTD.match(head)
    if match is None:
        if _OLD_LAYOUT.match(head):
            raise ArchiveFormatError(
                f"Unsupported archive format: {cursor.name} is from the pre-2019 Twitter "
                "archive (Grailbird); request a new archive from Twitter and import that"
            )
        raise cursor.error("it does not start with window.YTD.<name>.partN = [")
    cursor.pos += match.end()
    cursor.expect("[")
    return match.group(1)


def _elements(cursor: _Cursor) -> Iterator[None]:
    """Step through an array whose ``[`` was read: the caller reads each element
    at the cursor when this yields."""
    if cursor.peek() == "]":
        cursor.pos += 1
        return
    while True:
        yield
        following = cursor.peek()
        cursor.pos += 1
        if following == "]":
            return
        if following != ",":
            cursor.pos -= 1
            raise cursor.error(f"expected ',' or ']' but found {following or 'the end'!r}")


def _finish(cursor: _Cursor) -> None:
    if cursor.peek() == ";":
        cursor.pos += 1
    if cursor.peek():
        raise cursor.error("something follows the array")


def read_ytd(stream: IO[bytes], name: str) -> Iterator[Any]:
    """Each element of a ``window.YTD...`` file, in order."""
    cursor = _Cursor(stream, name)
    _open_array(cursor)
    for _ in _elements(cursor):
        yield cursor.value()
    _finish(cursor)


def conversation_messages(stream: IO[bytes], name: str) -> Iterator[tuple[str, Any]]:
    """(conversation id, message event) for each message of a direct-messages file.

    Each element is ``{"dmConversation": {"conversationId": ..., "messages": [...]}}``;
    the messages are streamed one at a time.
    """
    cursor = _Cursor(stream, name)
    _open_array(cursor)
    for _ in _elements(cursor):
        yield from _conversation(cursor)
    _finish(cursor)


def _conversation(cursor: _Cursor) -> Iterator[tuple[str, Any]]:
    conversation_id = ""
    for key in _object_keys(cursor):
        if key != "dmConversation":
            cursor.value()
            continue
        for inner in _object_keys(cursor):
            if inner == "conversationId":
                conversation_id = str(cursor.value())
            elif inner == "messages":
                cursor.expect("[")
                for _ in _elements(cursor):
                    yield conversation_id, cursor.value()
            else:
                cursor.value()


def _object_keys(cursor: _Cursor) -> Iterator[str]:
    """Step through an object: yields each key; the caller reads its value."""
    cursor.expect("{")
    if cursor.peek() == "}":
        cursor.pos += 1
        return
    while True:
        key = cursor.value()
        if not isinstance(key, str):
            raise cursor.error("an object key is not a string")
        cursor.expect(":")
        yield key
        following = cursor.peek()
        cursor.pos += 1
        if following == "}":
            return
        if following != ",":
            cursor.pos -= 1
            raise cursor.error(f"expected ',' or '}}' but found {following or 'the end'!r}")


def read_manifest(stream: IO[bytes], name: str) -> dict[str, Any]:
    """The ``window.__THAR_CONFIG = {...}`` object of ``data/manifest.js``."""
    cursor = _Cursor(stream, name)
    match = _MANIFEST.match(cursor.head(200))
    if match is None:
        raise cursor.error("it does not start with window.__THAR_CONFIG =")
    cursor.pos += match.end()
    value = cursor.value()
    if not isinstance(value, dict):
        raise cursor.error("the manifest is not an object")
    return value
