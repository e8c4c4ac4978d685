"""How many bytes an uploaded form file holds, whether or not the form said."""

from __future__ import annotations

from starlette.datastructures import UploadFile


def size_of(upload: UploadFile) -> int:
    """The file's size: as the form parser counted it, else by seeking to its end."""
    if upload.size is not None:
        return upload.size
    upload.file.seek(0, 2)
    size = upload.file.tell()
    upload.file.seek(0)
    return size
