"""Video and audio: metadata removed in place; ffmpeg's part with the ffmpeg the
lock file installs (so these run on every machine, none is skipped)."""

from __future__ import annotations

import asyncio
import io
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from roost.config import Settings
from roost.errors import Invalid
from roost.media import av
from roost.media.sniff import M4A, MOV, MP3, MP4, sniff
from tests.media import samples


def test_given_a_video_with_a_location_when_cleaned_then_the_location_is_gone() -> None:
    original = samples.mp4()
    assert samples.LOCATION in original
    file = io.BytesIO(original)
    assert av.strip_metadata(file, MP4) == MP4
    cleaned = file.getvalue()
    assert samples.LOCATION not in cleaned and b"com.apple.quicktime" not in cleaned
    # Same length, same media data: offsets into mdat still hold.
    assert len(cleaned) == len(original)
    assert cleaned.endswith(original[original.index(b"mdat") :])
    assert cleaned.count(b"free") == 2


def test_given_an_mp4_with_only_sound_then_it_is_audio() -> None:
    file = io.BytesIO(samples.mp4(handler=b"soun"))
    assert av.strip_metadata(file, MP4) == M4A


def test_given_a_quicktime_movie_then_it_stays_a_movie() -> None:
    file = io.BytesIO(samples.mp4(brand=b"qt  "))
    assert av.strip_metadata(file, MOV) == MOV


@pytest.mark.parametrize(
    "data",
    [
        samples.mp4()[:200],  # cut off inside the movie box
        samples.mp4()[:32] + b"\xff\xff\xff\xff" + samples.mp4()[36:],  # a box overruns
        b"\0\0\0\x14ftypisom\0\0\x02\0isom" + b"\0\0\0\x08mdat",  # no movie box
    ],
)
def test_given_a_file_that_only_starts_like_an_mp4_then_it_is_refused(data: bytes) -> None:
    assert sniff(data[:64]) == MP4
    with pytest.raises(Invalid, match="not a readable MP4"):
        av.strip_metadata(io.BytesIO(data), MP4)


def test_given_an_mp3_with_tags_when_cleaned_then_both_tags_say_nothing() -> None:
    original = samples.mp3()
    file = io.BytesIO(original)
    assert av.strip_metadata(file, MP3) == MP3
    cleaned = file.getvalue()
    assert b"48.8584" not in cleaned and b"Secret title" not in cleaned
    assert cleaned.startswith(b"ID3") and len(cleaned) == len(original) - 128
    assert sniff(cleaned[:64]) == MP3


def test_given_no_ffmpeg_setting_then_no_tools_are_used() -> None:
    assert av.find_tools("") is None
    assert av.find_tools("/nonexistent/ffmpeg") is None


def test_given_a_fresh_environment_when_ffmpeg_is_looked_for_then_the_locked_one_is_found(
    tmp_path: Path,
) -> None:
    """The default setting finds the ffmpeg installed from the lock file, with no
    ffmpeg on the PATH, and that build runs here."""
    bundled = av.bundled_ffmpeg()
    assert bundled is not None and Path(bundled).is_relative_to(Path(sys.prefix))
    tools = av.find_tools(Settings.model_fields["media_ffmpeg"].default)
    assert tools is not None and tools.ffmpeg == bundled
    version = subprocess.run([bundled, "-version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("ffmpeg version")
    # A command or path still overrides it.
    assert av.find_tools("ls") == av.Tools(str(shutil.which("ls")))


def test_given_a_phone_video_when_processed_then_poster_size_duration_and_no_location(
    tmp_path: Path,
) -> None:
    tools = av.find_tools(av.BUNDLED)
    assert tools is not None
    video = samples.phone_video(tmp_path / "clip.mp4")
    assert samples.LOCATION in video.read_bytes()

    async def scenario() -> tuple[bytes, dict[str, Any], bytes | None]:
        with await av.remux_without_metadata(tools, video, MP4) as clean:
            data = clean.read()
        return data, await av.probe(tools, video), await av.poster_frame(tools, video)

    cleaned, meta, poster = asyncio.run(scenario())
    assert samples.LOCATION not in cleaned and b"Secret title" not in cleaned
    assert meta["width"] == 320 and meta["height"] == 240 and meta["size"] == "320x240"
    assert meta["fps"] == 10 and meta["original"]["frame_rate"] == "10/1"
    assert 1.9 < meta["duration"] < 2.2 and meta["length"].startswith("0:00:02")
    assert meta["original"]["bitrate"] > 0
    assert poster is not None and poster.startswith(b"\x89PNG")


def test_given_a_webm_whose_header_has_no_duration_then_it_is_read_from_the_streams(
    tmp_path: Path,
) -> None:
    tools = av.find_tools(av.BUNDLED)
    assert tools is not None
    video = samples.streamed_webm(tmp_path / "recorded.webm", seconds=3)

    meta = asyncio.run(av.probe(tools, video))
    assert 2.9 < meta["duration"] < 3.1
    assert meta["size"] == "160x90" and meta["fps"] == 30
    assert meta["original"]["frame_rate"] == "30000/1001"


def test_given_a_tagged_song_when_processed_then_tags_are_gone_and_duration_known(
    tmp_path: Path,
) -> None:
    tools = av.find_tools(av.BUNDLED)
    assert tools is not None
    song = samples.tagged_song(tmp_path / "song.mp3", seconds=1.5)
    assert b"Secret title" in song.read_bytes()

    async def scenario() -> tuple[bytes, dict[str, Any], bytes | None]:
        with await av.remux_without_metadata(tools, song, MP3) as clean:
            data = clean.read()
        return data, await av.probe(tools, song), await av.poster_frame(tools, song)

    cleaned, meta, poster = asyncio.run(scenario())
    assert b"Secret title" not in cleaned
    assert 1.4 < meta["duration"] < 1.6 and "width" not in meta
    assert poster is None


@pytest.mark.parametrize(
    ("report", "expected"),
    [
        # Cover art is a picture of the song, not a video.
        (
            "Input #0, mp3, from 'a.mp3':\n"
            "  Duration: 00:03:05.12, start: 0.025057, bitrate: 320 kb/s\n"
            "  Stream #0:0: Audio: mp3 (mp3float), 44100 Hz, stereo, fltp, 320 kb/s\n"
            "  Stream #0:1: Video: mjpeg (Baseline), yuvj420p(pc), 600x600, 90k tbr, 90k tbn "
            "(attached pic)\n"
            "Stream mapping:\n",
            {
                "duration": 185.12,
                "length": "0:03:05.12",
                "original": {"duration": 185.12, "bitrate": 320000},
            },
        ),
        # The codec tag (0x31637661) is not a frame size.
        (
            "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'b.mov':\n"
            "  Duration: 00:00:01.00, start: 0.000000, bitrate: N/A\n"
            "  Stream #0:0[0x1](und): Video: h264 (avc1 / 0x31637661), yuv420p(tv, bt709), "
            "1920x1080, 8000 kb/s, 23.98 fps, 23.98 tbr, 24k tbn (default)\n",
            {
                "duration": 1.0,
                "length": "0:00:01.00",
                "width": 1920,
                "height": 1080,
                "size": "1920x1080",
                "aspect": 1920 / 1080,
                "fps": 24,
                "original": {
                    "duration": 1.0,
                    "width": 1920,
                    "height": 1080,
                    "frame_rate": "24000/1001",
                },
            },
        ),
        ("not ffmpeg's report at all", {}),
    ],
)
def test_given_ffmpegs_description_of_an_input_then_meta_is_what_it_states(
    report: str, expected: dict[str, Any]
) -> None:
    assert av.describe(report) == expected
