"""Opening what the owner hands over: the archive zip, its extracted folder, or a
bare ``tweets.js``, safely.

Nothing is ever extracted: entries are read straight out of the zip, so no
entry can be written anywhere, let alone outside the data directory. A zip is
still checked whole before anything is read from it, and refused when

- it is not a zip or its directory is damaged,
- an entry's path is absolute or climbs out of the archive (``../``),
- an entry is a symbolic link,
- the entries add up to more than ``max_unpacked_bytes``, or one of them packs
  more than ``max_ratio`` times its stored size (a zip bomb), or there are more
  entries than any real archive has.

A folder is read the same way, and a file in it that resolves (through a
symbolic link) to somewhere outside the folder is refused.

Every refusal is an ``ArchiveRefused`` whose message is one sentence.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import stat
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from roost.errors import Invalid

# Entries below this size may pack tightly (a JSON file of zeros) without
# being a threat; the ratio rule applies above it.
_RATIO_FLOOR_BYTES = 1 << 20


class ArchiveRefused(Invalid):
    """The file handed over is not a Twitter archive Roost will read."""


@dataclass(frozen=True, slots=True)
class Limits:
    max_unpacked_bytes: int = 16 << 30
    max_ratio: int = 200
    max_entries: int = 500_000


class Archive(ABC):
    """Files by their path inside the archive (posix, relative)."""

    def __init__(self, label: str) -> None:
        self.label = label

    @abstractmethod
    def names(self) -> list[str]:
        """Every file's path."""

    @abstractmethod
    def size(self, name: str) -> int:
        """Its unpacked size in bytes."""

    @abstractmethod
    def open(self, name: str) -> IO[bytes]:
        """Its bytes, to be read once."""

    def fingerprint(self) -> str:
        """Names and sizes (and checksums where the zip has them): the same
        archive handed over twice has the same fingerprint."""
        digest = hashlib.sha256()
        for name in sorted(self.names()):
            digest.update(f"{name}\0{self.size(name)}\0{self._checksum(name)}\n".encode())
        return digest.hexdigest()[:32]

    def _checksum(self, name: str) -> int:
        return 0

    def close(self) -> None:
        """Let go of the file (only a zip holds one open)."""
        return None

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _safe_name(raw: str) -> str | None:
    """The entry's path inside the archive, or None when it would leave it."""
    name = raw.replace("\\", "/")
    if "\0" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return None
    normal = posixpath.normpath(name)
    if normal == ".." or normal.startswith("../"):
        return None
    return normal


class ZipArchive(Archive):
    def __init__(self, path: Path, limits: Limits) -> None:
        super().__init__(path.name)
        try:
            self._zip = zipfile.ZipFile(path)
        except zipfile.BadZipFile:
            raise ArchiveRefused(
                f"{path.name} is not a zip file, or the zip is damaged: download the archive again"
            ) from None
        except (OSError, ValueError, EOFError) as error:
            raise ArchiveRefused(f"{path.name} cannot be opened as a zip file ({error})") from None
        try:
            self._infos = self._checked(limits)
        except BaseException:
            self._zip.close()
            raise

    def _checked(self, limits: Limits) -> dict[str, zipfile.ZipInfo]:
        infos = self._zip.infolist()
        if len(infos) > limits.max_entries:
            raise ArchiveRefused(
                f"{self.label} holds {len(infos)} entries, more than the {limits.max_entries} "
                "a Twitter archive can have"
            )
        total = 0
        checked: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            name = _safe_name(info.filename)
            if name is None:
                raise ArchiveRefused(
                    f"{self.label} contains an entry whose path leaves the archive "
                    f"({info.filename!r}); it is refused"
                )
            if stat.S_ISLNK(info.external_attr >> 16):
                raise ArchiveRefused(
                    f"{self.label} contains a symbolic link ({info.filename!r}), which no "
                    "Twitter archive has; it is refused"
                )
            if info.is_dir():
                continue
            total += info.file_size
            if total > limits.max_unpacked_bytes:
                raise ArchiveRefused(
                    f"{self.label} unpacks to more than {limits.max_unpacked_bytes} bytes, "
                    "the limit set by ROOST_IMPORT_MAX_UNPACKED_BYTES"
                )
            stored = max(info.compress_size, 1)
            if info.file_size > _RATIO_FLOOR_BYTES and info.file_size / stored > limits.max_ratio:
                raise ArchiveRefused(
                    f"{self.label} looks like a zip bomb: {info.filename!r} unpacks to "
                    f"{info.file_size // stored} times its size (the limit is {limits.max_ratio})"
                )
            checked[name] = info
        return checked

    def names(self) -> list[str]:
        return list(self._infos)

    def size(self, name: str) -> int:
        return self._infos[name].file_size

    def _checksum(self, name: str) -> int:
        return self._infos[name].CRC

    def open(self, name: str) -> IO[bytes]:
        # zipfile never hands out more than the declared size and checks the
        # CRC at the end, so a lying header cannot inflate beyond the limits.
        return self._zip.open(self._infos[name])

    def close(self) -> None:
        self._zip.close()


class FolderArchive(Archive):
    def __init__(self, root: Path, limits: Limits) -> None:
        super().__init__(root.name)
        self._root = root.resolve()
        self._files: dict[str, Path] = {}
        for path in self._walk():
            if len(self._files) >= limits.max_entries:
                raise ArchiveRefused(
                    f"{root.name} holds more than {limits.max_entries} files, more than a "
                    "Twitter archive can have"
                )
            resolved = path.resolve()
            if not resolved.is_relative_to(self._root):
                raise ArchiveRefused(
                    f"{path.relative_to(root)} points outside the archive folder "
                    f"(to {resolved}); it is refused"
                )
            self._files[path.relative_to(root).as_posix()] = resolved

    def _walk(self) -> Iterator[Path]:
        # followlinks=False: a linked folder is not entered (its files could be
        # anywhere); a linked file is checked by where it resolves.
        for directory, _dirs, files in os.walk(self._root, followlinks=False):
            for file in files:
                path = Path(directory) / file
                if path.is_file():
                    yield path

    def names(self) -> list[str]:
        return list(self._files)

    def size(self, name: str) -> int:
        return self._files[name].stat().st_size

    def open(self, name: str) -> IO[bytes]:
        return self._files[name].open("rb")


class SingleFile(Archive):
    """A bare ``tweets.js`` (or ``tweet.js``), seen as ``data/<its name>``."""

    def __init__(self, path: Path) -> None:
        super().__init__(path.name)
        self._path = path
        self._name = f"data/{path.name}"

    def names(self) -> list[str]:
        return [self._name]

    def size(self, name: str) -> int:
        return self._path.stat().st_size

    def open(self, name: str) -> IO[bytes]:
        return self._path.open("rb")


def open_archive(path: Path, limits: Limits) -> Archive:
    """The archive at ``path``; ArchiveRefused with one sentence when it is not one.

    Messages name the file by its name, which for an upload is the name it
    was sent with.
    """
    if not path.exists():
        raise ArchiveRefused(f"{path} does not exist")
    if path.is_dir():
        return FolderArchive(path, limits)
    if path.suffix == ".js":
        return SingleFile(path)
    if not zipfile.is_zipfile(path):
        raise ArchiveRefused(
            f"{path.name} is not a zip file, or one cut short: give the archive zip, its "
            "extracted folder, or its tweets.js"
        )
    return ZipArchive(path, limits)
