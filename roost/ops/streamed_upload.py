"""A multipart upload written straight to a file in a folder we choose.

Starlette's form parser spools large files to the system's temporary
directory; an archive of several gigabytes must go to the data directory
instead, be counted against its limit while it arrives, and leave nothing
behind when it is refused. The body is parsed as it streams in.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from fastapi import Request
from python_multipart.multipart import MultipartParser, parse_options_header

from roost.errors import Invalid, RuleBroken, Unreadable

_MAX_FIELD_BYTES = 1000
_MAX_FIELDS = 20


@dataclass
class SavedUpload:
    path: Path | None
    size: int = 0
    fields: dict[str, str] = field(default_factory=dict)


class _Receiver:
    def __init__(self, target: Path, file_fields: tuple[str, ...], max_bytes: int) -> None:
        self.target = target
        self.file_fields = file_fields
        self.max_bytes = max_bytes
        self.saved = SavedUpload(path=None)
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._name = ""
        self._is_file = False
        self._file: IO[bytes] | None = None
        self._value = bytearray()

    def on_part_begin(self) -> None:
        self._disposition = b""
        self._name = ""
        self._is_file = False
        self._value = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = b""
        self._header_value = b""

    def on_headers_finished(self) -> None:
        _kind, params = parse_options_header(self._disposition)
        self._name = params.get(b"name", b"").decode("utf-8", "replace")
        self._is_file = b"filename" in params
        if self._is_file and self._name in self.file_fields:
            if self._file is not None:
                raise RuleBroken("send one archive per upload")
            self._file = self.target.open("xb")
            self.saved.path = self.target

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._is_file:
            if self._file is None or self._name not in self.file_fields:
                return  # another file field: not ours, not kept
            self.saved.size += end - start
            if self.saved.size > self.max_bytes:
                raise RuleBroken(
                    f"the archive is larger than the {self.max_bytes} byte "
                    "limit (ROOST_IMPORT_MAX_UPLOAD_BYTES)"
                )
            self._file.write(data[start:end])
            return
        self._value += data[start:end]
        if len(self._value) > _MAX_FIELD_BYTES:
            raise RuleBroken(f"the field {self._name!r} is too long")

    def on_part_end(self) -> None:
        if not self._is_file and self._name:
            if len(self.saved.fields) >= _MAX_FIELDS:
                raise RuleBroken("too many form fields")
            self.saved.fields[self._name] = self._value.decode("utf-8", "replace")

    def close(self) -> None:
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


async def save_upload(
    request: Request, target: Path, *, file_fields: tuple[str, ...], max_bytes: int
) -> SavedUpload:
    """Stream the multipart body's file (in one of ``file_fields``) to ``target``;
    the small fields beside it are returned. Nothing is left at ``target`` when
    the upload is refused."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise RuleBroken("send the archive as multipart/form-data, in a field 'archive'")
    receiver = _Receiver(target, file_fields, max_bytes)
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": receiver.on_part_begin,
            "on_part_data": receiver.on_part_data,
            "on_part_end": receiver.on_part_end,
            "on_header_field": receiver.on_header_field,
            "on_header_value": receiver.on_header_value,
            "on_header_end": receiver.on_header_end,
            "on_headers_finished": receiver.on_headers_finished,
        },
    )
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except BaseException as error:
        receiver.close()
        await asyncio.to_thread(_remove, target)
        if isinstance(error, Invalid):
            raise
        if isinstance(error, Exception):
            raise Unreadable("The request body is not a valid multipart form") from None
        raise
    receiver.close()
    return receiver.saved
