"""Video and audio: what Roost does with them, with and without ffmpeg.

Always (pure Python, in place, no re-encoding):
  - MP4, MOV and M4A: the metadata boxes (``udta``, ``meta``, top-level
    ``uuid``) are overwritten with zeros and renamed ``free``. That is where a
    phone records the place a video was shot (``©xyz``, Apple's
    ``location.ISO6709``). Sizes and offsets stay as they were, so the file
    still plays; a file that is not a well-formed box sequence is refused.
  - MP3: ID3 tags are blanked (ID3v2) or cut off (ID3v1).
  - The MP4 family is told apart by its tracks: no video track means audio.

With ffmpeg (``ROOST_MEDIA_FFMPEG``; by default the build installed with Roost
from the lock file, the imageio-ffmpeg package):
  - every file is remuxed without metadata (``-map_metadata -1``, streams
    copied, not re-encoded), which also covers WebM and Ogg;
  - a poster frame becomes the preview image and its blurhash;
  - duration, frame size, frame rate and bit rate are reported in ``meta``.

Only ``ffmpeg`` itself is needed: the installed build has no ``ffprobe``, so
the facts ``ffprobe`` would give are read from the description of the input
that ffmpeg prints while it copies the streams to nowhere (``_describe``).

Without ffmpeg (``ROOST_MEDIA_FFMPEG=""``, or none found), WebM and Ogg files
are stored as uploaded, tags included, and videos have no preview image or
duration: apps show a generic video tile.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.resources
import logging
import re
import shutil
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import IO, Any

from roost.errors import Invalid, RuleBroken
from roost.media.sniff import M4A, MOV, MP3, MP4, Format

log = logging.getLogger("roost.media")

_BLANKED = {b"udta", b"meta"}
_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf"}
_FFMPEG_TIMEOUT_S = 300


def _refuse(fmt: Format) -> Invalid:
    return RuleBroken(f"the file is not a readable {fmt.extension.upper()} file")


@dataclass(frozen=True, slots=True)
class _Box:
    kind: bytes
    start: int
    header: int
    size: int


def _boxes(file: IO[bytes], start: int, end: int) -> list[_Box]:
    found: list[_Box] = []
    position = start
    while position + 8 <= end:
        file.seek(position)
        head = file.read(8)
        size, kind, header = int.from_bytes(head[:4], "big"), head[4:8], 8
        if size == 1:
            size, header = int.from_bytes(file.read(8), "big"), 16
        elif size == 0:
            size = end - position
        if size < header or position + size > end:
            raise ValueError("box overruns its parent")
        found.append(_Box(kind, position, header, size))
        position += size
    return found


def _blank(file: IO[bytes], box: _Box) -> None:
    file.seek(box.start + 4)
    file.write(b"free")
    file.seek(box.start + box.header)
    remaining = box.size - box.header
    while remaining > 0:
        step = min(remaining, 1024 * 1024)
        file.write(b"\0" * step)
        remaining -= step


def _clean_mp4(file: IO[bytes], fmt: Format) -> Format:
    """Blank the metadata boxes; return the format the tracks say it is."""
    file.seek(0, 2)
    end = file.tell()
    try:
        top = _boxes(file, 0, end)
        moov = [box for box in top if box.kind == b"moov"]
        if not top or top[0].kind != b"ftyp" or len(moov) != 1:
            raise ValueError("no single movie box")
        handlers: set[bytes] = set()
        for box in top:
            if box.kind in _BLANKED or box.kind == b"uuid":
                _blank(file, box)
        _walk(file, moov[0], handlers)
    except (ValueError, OSError):
        raise _refuse(fmt) from None
    if b"vide" in handlers:
        return MOV if fmt == MOV else MP4
    if b"soun" in handlers:
        return M4A
    raise _refuse(fmt)


def _walk(file: IO[bytes], parent: _Box, handlers: set[bytes]) -> None:
    for box in _boxes(file, parent.start + parent.header, parent.start + parent.size):
        if box.kind in _BLANKED:
            _blank(file, box)
        elif box.kind in _CONTAINERS:
            _walk(file, box, handlers)
        elif box.kind == b"hdlr" and parent.kind == b"mdia":
            # version/flags (4), pre_defined (4), then the handler type.
            file.seek(box.start + box.header + 8)
            handlers.add(file.read(4))


def _clean_mp3(file: IO[bytes]) -> None:
    file.seek(0)
    head = file.read(10)
    if head[:3] == b"ID3" and len(head) == 10:
        body = _syncsafe(head[6:10])
        footer = 10 if head[5] & 0x10 else 0
        # An ID3v2 tag of nothing but padding: still valid, says nothing.
        file.seek(10)
        file.write(b"\0" * (body + footer))
    file.seek(0, 2)
    end = file.tell()
    if end >= 128:
        file.seek(end - 128)
        if file.read(3) == b"TAG":
            file.truncate(end - 128)


def _syncsafe(raw: bytes) -> int:
    return (raw[0] << 21) | (raw[1] << 14) | (raw[2] << 7) | raw[3]


def strip_metadata(file: IO[bytes], fmt: Format) -> Format:
    """Remove what can be removed without ffmpeg, in place; returns the refined format.

    Invalid (422) when an MP4-family file is not what its first bytes claim.
    """
    if fmt in (MP4, MOV, M4A):
        return _clean_mp4(file, fmt)
    if fmt == MP3:
        _clean_mp3(file)
    return fmt


# --- ffmpeg -------------------------------------------------------------------

BUNDLED = "bundled"


@dataclass(frozen=True, slots=True)
class Tools:
    ffmpeg: str


@functools.cache
def bundled_ffmpeg() -> str | None:
    """The ffmpeg executable the imageio-ffmpeg package installed (one build per
    platform wheel), or None where that package has no build."""
    try:
        binaries = importlib.resources.files("imageio_ffmpeg.binaries")
    except ModuleNotFoundError:
        return None
    for entry in binaries.iterdir():
        # Named ffmpeg-<platform>-<version>; the directory also holds its
        # README and __init__.py. The exact name is the package's business.
        if entry.name.startswith("ffmpeg") and entry.is_file():
            return str(entry)
    return None


def find_tools(setting: str) -> Tools | None:
    """The ffmpeg the setting names: ``bundled`` (the default) for the one
    installed with Roost (else ``ffmpeg`` on the PATH), a command name or a
    path; None when the setting is empty or nothing is found."""
    if not setting:
        return None
    if setting == BUNDLED:
        found = bundled_ffmpeg() or shutil.which("ffmpeg")
    else:
        found = shutil.which(setting)
    return Tools(found) if found else None


async def _run(*command: str) -> tuple[bytes, bytes]:
    """(stdout, stderr) of a command that succeeded; RuntimeError otherwise."""
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), _FFMPEG_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise RuntimeError(
            f"{Path(command[0]).name} took longer than {_FFMPEG_TIMEOUT_S}s"
        ) from None
    if process.returncode != 0:
        message = err.decode(errors="replace").strip()[-500:]
        raise RuntimeError(f"{Path(command[0]).name} failed: {message}")
    return out, err


async def probe(tools: Tools, path: Path) -> dict[str, Any]:
    """Mastodon's ``meta`` for a video or audio file: duration, size, frame rate.

    ffmpeg copies every stream to the null muxer (reading the file, decoding
    nothing) and describes the input on stderr as it starts; the last progress
    line's ``time=`` is the duration where the container does not state one
    (a WebM recorded in a browser).
    """
    _, err = await _run(
        tools.ffmpeg,
        "-hide_banner",
        "-nostdin",
        "-i",
        str(path),
        "-map",
        "0",
        "-c",
        "copy",
        "-f",
        "null",
        "-",
    )
    return describe(err.decode(errors="replace"))


_DURATION = re.compile(r"^\s*Duration: (?:(\d+):(\d\d):(\d\d(?:\.\d+)?)|N/A)(.*)$")
_BITRATE = re.compile(r"bitrate: (\d+) kb/s")
_VIDEO = re.compile(r"^\s*Stream #\d+:\d+\S*: Video: (.*)$")
_SIZE = re.compile(r"(?:^|[ ,])(\d{1,5})x(\d{1,5})(?=[ ,\[]|$)")
_RATE = re.compile(r", (\d+(?:\.\d+)?)(k?) (fps|tbr)\b")
_TIME = re.compile(r"\btime=(\d+):(\d\d):(\d\d(?:\.\d+)?)")


def _seconds(hours: str, minutes: str, seconds: str) -> float:
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def describe(report: str) -> dict[str, Any]:
    """Mastodon's ``meta`` from ffmpeg's description of its first input."""
    lines = report.splitlines()
    begin = next((n for n, line in enumerate(lines) if line.startswith("Input #0")), None)
    if begin is None:
        return {}
    end = next(
        (n for n in range(begin + 1, len(lines)) if not lines[n].startswith(" ")), len(lines)
    )
    duration, bitrate, video = 0.0, 0, None
    for line in lines[begin:end]:
        if found := _DURATION.match(line):
            if found.group(1) is not None:
                duration = _seconds(found.group(1), found.group(2), found.group(3))
            if kbps := _BITRATE.search(found.group(4)):
                bitrate = int(kbps.group(1)) * 1000
        elif (stream := _VIDEO.match(line)) and video is None and "(attached pic)" not in line:
            # Cover art of an audio file is a picture, not a video.
            video = stream.group(1)
    if not duration:
        times = _TIME.findall("\n".join(lines[end:]))
        duration = _seconds(*times[-1]) if times else 0.0
    meta: dict[str, Any] = {}
    original: dict[str, Any] = {}
    if duration:
        meta["duration"] = round(duration, 3)
        meta["length"] = _length(duration)
        original["duration"] = round(duration, 3)
    if bitrate:
        original["bitrate"] = bitrate
    if video is not None:
        if size := _SIZE.search(video):
            width, height = int(size.group(1)), int(size.group(2))
            if width and height:
                meta.update(width=width, height=height, size=f"{width}x{height}")
                meta["aspect"] = width / height
                original.update(width=width, height=height)
        rates = {kind: float(value) * (1000 if k else 1) for value, k, kind in _RATE.findall(video)}
        rate = rates.get("fps") or rates.get("tbr")
        if rate:
            original["frame_rate"] = _rational(rate)
            meta["fps"] = round(rate)
    if original:
        meta["original"] = original
    return meta


def _rational(rate: float) -> str:
    """A frame rate as ffprobe writes it: ffmpeg prints 30000/1001 as 29.97."""
    if rate == int(rate):
        return f"{int(rate)}/1"
    ntsc = round(rate * 1.001)
    if abs(ntsc / 1.001 - rate) < 0.006:
        return f"{ntsc * 1000}/1001"
    exact = Fraction(rate).limit_denominator(1001)
    return f"{exact.numerator}/{exact.denominator}"


def _length(seconds: float) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{int(hours)}:{int(minutes):02d}:{secs:05.2f}"


async def poster_frame(tools: Tools, path: Path) -> bytes | None:
    """The first frame as PNG bytes; None for a file without video."""
    try:
        out, _ = await _run(
            tools.ffmpeg,
            "-v",
            "error",
            "-nostdin",
            "-i",
            str(path),
            "-map",
            "0:v:0?",
            "-frames:v",
            "1",
            "-f",
            "image2pipe",
            "-vcodec",
            "png",
            "-",
        )
    except RuntimeError as error:
        # The video map is optional (``?``): without a video stream the output
        # has none, which ffmpeg refuses.
        if "does not contain any stream" in str(error):
            return None
        raise
    return out or None


async def remux_without_metadata(tools: Tools, path: Path, fmt: Format) -> IO[bytes]:
    """A copy of the file with every tag and chapter dropped, streams untouched.

    Returns an open temporary file the caller closes (which removes it).
    """
    muxer = {"mov": "mov", "m4a": "ipod", "mp4": "mp4", "webm": "webm", "mp3": "mp3"}
    container = muxer.get(fmt.extension, "ogg")
    output = tempfile.NamedTemporaryFile(suffix="." + fmt.extension)  # noqa: SIM115
    command = [tools.ffmpeg, "-v", "error", "-nostdin", "-y", "-i", str(path), "-map", "0"]
    command += ["-map_metadata", "-1", "-map_chapters", "-1", "-c", "copy"]
    if container in ("mp4", "mov", "ipod"):
        # The index first: players can start (and seek by range) before the end arrives.
        command += ["-movflags", "+faststart"]
    command += ["-f", container, output.name]
    try:
        await _run(*command)
    except BaseException:
        output.close()
        raise
    output.seek(0)
    return output
