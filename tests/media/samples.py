"""Files for media tests, made on the spot: nothing binary is checked in."""

from __future__ import annotations

import io
import struct
import subprocess
import zlib
from pathlib import Path

from PIL import Image

# Where the Eiffel Tower stands: what a leaked GPS tag would give away.
GPS_IFD = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
    b'22-rdf-syntax-ns#"><rdf:Description exif:GPSLatitude="48,51.48N"/></rdf:RDF></x:xmpmeta>'
)


def photo(width: int = 640, height: int = 480, *, orientation: int = 1) -> Image.Image:
    """A picture with detail (so JPEG sizes are realistic): a Mandelbrot set."""
    image = Image.effect_mandelbrot((width, height), (-2.0, -1.2, 0.8, 1.2), 60)
    return Image.merge(
        "RGB", (image, image.rotate(180), image.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    )


def jpeg_with_gps(width: int = 640, height: int = 480, *, orientation: int = 1) -> bytes:
    """A JPEG as a phone writes it: EXIF with GPS position and camera, XMP, a comment."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 15"  # Model
    exif[0x0112] = orientation
    exif[0x8825] = GPS_IFD
    out = io.BytesIO()
    photo(width, height).save(out, "JPEG", quality=90, exif=exif, xmp=XMP, comment=b"shot at home")
    return out.getvalue()


def png(width: int = 64, height: int = 48, mode: str = "RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), (200, 40, 90, 128)[: len(mode)]).save(out, "PNG")
    return out.getvalue()


def animated_gif(frames: int = 4, size: tuple[int, int] = (40, 30)) -> bytes:
    images = [Image.new("RGB", size, (i * 60 % 256, 80, 160)) for i in range(frames)]
    out = io.BytesIO()
    images[0].save(
        out,
        "GIF",
        save_all=True,
        append_images=images[1:],
        duration=120,
        loop=0,
        comment=b"made by a test",
    )
    return out.getvalue()


def png_bomb(width: int, height: int) -> bytes:
    """A real decompression bomb: a small file of zeros that decodes to width x height
    one-bit pixels (a whole IDAT stream, not just a lying header)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    row = b"\0" * (1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


LOCATION = b"+48.8584+002.2945/"


def mp4(handler: bytes = b"vide", brand: bytes = b"isom", payload: int = 4096) -> bytes:
    """A structurally valid MP4 (boxes, a track with a handler) carrying a phone's
    location in moov/udta/(c)xyz and in an Apple-style moov/meta box."""
    hdlr = _box(b"hdlr", b"\0" * 8 + handler + b"\0" * 12 + b"Handler\0")
    trak = _box(
        b"trak", _box(b"tkhd", b"\0" * 84) + _box(b"mdia", _box(b"mdhd", b"\0" * 24) + hdlr)
    )
    udta = _box(b"udta", _box(b"\xa9xyz", b"\0\x12\x15\xc7" + LOCATION))
    meta = _box(
        b"meta", b"\0" * 4 + _box(b"keys", b"com.apple.quicktime.location.ISO6709" + LOCATION)
    )
    moov = _box(b"moov", _box(b"mvhd", b"\0" * 100) + trak + udta + meta)
    ftyp = _box(b"ftyp", brand + b"\0\0\x02\0" + brand + b"mp41")
    return ftyp + moov + _box(b"mdat", bytes(range(256)) * (payload // 256))


def mp3(frames: int = 40) -> bytes:
    """MPEG-1 layer III frames between an ID3v2 tag (title, comment) and an ID3v1 tag."""

    def syncsafe(n: int) -> bytes:
        return bytes([(n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F])

    text = b"\0recorded at 48.8584,2.2945"
    frame = b"COMM" + struct.pack(">I", len(text)) + b"\0\0" + text
    id3v2 = b"ID3\x03\x00\x00" + syncsafe(len(frame)) + frame
    # 128 kbit/s, 44.1 kHz: 417 bytes per frame.
    audio = (b"\xff\xfb\x90\x64" + b"\x55" * 413) * frames
    id3v1 = b"TAG" + b"Secret title".ljust(30, b"\0") + b"\0" * 95
    return id3v2 + audio + id3v1


# --- real files, made by the ffmpeg installed from the lock file ---------------


def ffmpeg() -> str:
    """The ffmpeg Roost installs (imageio-ffmpeg, from the lock file): every
    machine the tests run on has it, so no test that needs it is skipped."""
    from roost.media import av

    found = av.bundled_ffmpeg()
    assert found is not None, "the environment lacks imageio-ffmpeg's ffmpeg: rebuild it"
    return found


def _make(*args: str) -> None:
    subprocess.run([ffmpeg(), "-v", "error", "-nostdin", "-y", *args], check=True, timeout=120)


def phone_video(path: Path, *, seconds: int = 2, size: str = "320x240", rate: str = "10") -> Path:
    """An H.264 + AAC MP4 with the place it was shot in its metadata, as an
    iPhone writes it (Apple's ISO 6709 location key)."""
    _make(
        "-f", "lavfi", "-i", f"testsrc=duration={seconds}:size={size}:rate={rate}",
        "-f", "lavfi", "-i", f"sine=duration={seconds}",
        "-pix_fmt", "yuv420p", "-shortest", "-movflags", "use_metadata_tags",
        "-metadata", f"com.apple.quicktime.location.ISO6709={LOCATION.decode()}",
        "-metadata", "title=Secret title",
        str(path),
    )  # fmt: skip
    return path


def streamed_webm(path: Path, *, seconds: int = 3) -> Path:
    """A WebM written as a browser's recorder writes it: to a stream, so its
    header states no duration."""
    with path.open("wb") as out:
        subprocess.run(
            [
                ffmpeg(), "-v", "error", "-nostdin", "-f", "lavfi",
                "-i", f"testsrc=duration={seconds}:size=160x90:rate=30000/1001",
                "-c:v", "libvpx", "-deadline", "realtime", "-f", "webm", "pipe:1",
            ],
            stdout=out,
            check=True,
            timeout=120,
        )  # fmt: skip
    return path


def tagged_song(path: Path, *, seconds: float = 1.5) -> Path:
    """An MP3 with a title tag."""
    _make(
        "-f", "lavfi", "-i", f"sine=duration={seconds}",
        "-metadata", "title=Secret title", str(path),
    )  # fmt: skip
    return path
