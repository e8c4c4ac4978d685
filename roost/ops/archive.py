"""The backup file: a tar stream with a marker first and the manifest last.

    roost-backup.json        marker: this is a Roost backup, and its format
    database/roost.sqlite3   or database/roost.pgdump (pg_dump custom format)
    files/secret_key
    media/ab/cd/<sha256>.jpg
    manifest.json            versions, schema revision, time, row counts, and
                             the SHA-256 and size of every member above

The manifest comes last so that a file is hashed while it is written (media is
read once). Reading checks every member against it; a stream that stops early
is reported as truncated, naming the member it stopped in.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from roost.ops.errors import BackupDamaged

FORMAT = 1
MARKER = "roost-backup.json"
MANIFEST = "manifest.json"
_COPY = 1024 * 1024


@dataclass(frozen=True)
class FileEntry:
    sha256: str
    size: int


@dataclass
class Manifest:
    roost_version: str
    created_at: str
    backend: str  # "sqlite" or "postgresql"
    schema_revision: str | None
    database_member: str
    row_counts: dict[str, int]
    files: dict[str, FileEntry] = field(default_factory=dict)
    # Server and dump-tool versions (PostgreSQL), derived tables left empty.
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "format": FORMAT,
                "roost_version": self.roost_version,
                "created_at": self.created_at,
                "backend": self.backend,
                "schema_revision": self.schema_revision,
                "database_member": self.database_member,
                "row_counts": self.row_counts,
                "files": {
                    name: {"sha256": e.sha256, "size": e.size}
                    for name, e in sorted(self.files.items())
                },
                "details": self.details,
            },
            indent=2,
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        try:
            data = json.loads(raw)
            if data["format"] != FORMAT:
                raise BackupDamaged(
                    f"the backup has format {data['format']}, this Roost reads format {FORMAT}"
                )
            return cls(
                roost_version=str(data["roost_version"]),
                created_at=str(data["created_at"]),
                backend=str(data["backend"]),
                schema_revision=data["schema_revision"],
                database_member=str(data["database_member"]),
                row_counts={str(k): int(v) for k, v in data["row_counts"].items()},
                files={
                    str(name): FileEntry(sha256=str(e["sha256"]), size=int(e["size"]))
                    for name, e in data["files"].items()
                },
                details=dict(data.get("details", {})),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise BackupDamaged(f"{MANIFEST} is not a valid manifest ({error})") from None


class _HashingReader:
    """Hands tarfile a file's bytes while hashing them, so media is read once."""

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        self.digest.update(data)
        return data


class ArchiveWriter:
    """Writes members in order; ``finish`` appends the manifest and closes."""

    def __init__(self, sink: Any) -> None:
        self._tar = tarfile.open(  # noqa: SIM115  (closed by finish)
            fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT
        )
        self.files: dict[str, FileEntry] = {}

    def add_bytes(self, name: str, data: bytes, *, listed: bool = True) -> None:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mode = 0o600
        self._tar.addfile(info, io.BytesIO(data))
        if listed:
            self.files[name] = FileEntry(hashlib.sha256(data).hexdigest(), len(data))

    def add_file(self, name: str, path: Path) -> None:
        with path.open("rb") as source:
            size = path.stat().st_size
            info = tarfile.TarInfo(name)
            info.size = size
            info.mode = 0o600
            hashing = _HashingReader(source)
            self._tar.addfile(info, hashing)
        self.files[name] = FileEntry(hashing.digest.hexdigest(), size)

    def finish(self, manifest: Manifest) -> None:
        manifest.files = dict(self.files)
        self.add_bytes(MANIFEST, manifest.to_json(), listed=False)
        self._tar.close()


def _safe_name(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise BackupDamaged(f"the backup holds an unsafe member name {name!r}")
    return path


def read_archive(source: Any, into: Path) -> Manifest:
    """Extract every member of the stream under ``into`` and check it against the
    manifest. Raises BackupDamaged naming what is missing, altered or cut off."""
    seen: dict[str, FileEntry] = {}
    manifest: Manifest | None = None
    current = "the start of the file"
    try:
        tar = tarfile.open(fileobj=source, mode="r|")  # noqa: SIM115  (closed below)
        for member in tar:
            if manifest is not None:
                raise BackupDamaged(f"{member.name} follows {MANIFEST}; the backup was altered")
            if not seen and member.name != MARKER:
                raise BackupDamaged("the file is a tar archive but not a Roost backup")
            if not member.isfile():
                raise BackupDamaged(f"{member.name} is not a plain file; the backup was altered")
            current = member.name
            extracted = tar.extractfile(member)
            assert extracted is not None
            if member.name == MANIFEST:
                manifest = Manifest.from_json(extracted.read())
                continue
            target = into / _safe_name(member.name)
            target.parent.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256()
            size = 0
            with target.open("wb") as out:
                while chunk := extracted.read(_COPY):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
            if size != member.size:
                raise BackupDamaged(f"the backup is truncated: it ends inside {member.name}")
            seen[member.name] = FileEntry(digest.hexdigest(), size)
        tar.close()
    except (tarfile.ReadError, EOFError) as error:
        if not seen and current == "the start of the file":
            raise BackupDamaged(f"the file is not a Roost backup ({error})") from None
        raise BackupDamaged(f"the backup is truncated or damaged in {current} ({error})") from None
    if manifest is None:
        raise BackupDamaged(
            f"the backup is truncated: {MANIFEST}, which comes last, is missing "
            f"(the last complete member is {current})"
        )
    _compare(manifest, seen)
    return manifest


def _compare(manifest: Manifest, seen: dict[str, FileEntry]) -> None:
    for name, entry in sorted(manifest.files.items()):
        found = seen.get(name)
        if found is None:
            raise BackupDamaged(f"{name} is listed in the manifest but missing from the backup")
        if found.size != entry.size:
            raise BackupDamaged(
                f"{name} has {found.size} bytes where the manifest says {entry.size}; "
                "the backup was altered"
            )
        if found.sha256 != entry.sha256:
            raise BackupDamaged(f"{name} has been altered: its SHA-256 differs from the manifest's")
    extra = sorted(set(seen) - set(manifest.files))
    if extra:
        raise BackupDamaged(f"{extra[0]} is not in the manifest; the backup was altered")
