"""Video and audio: metadata removed in place; ffmpeg's part where it exists."""

from __future__ import annotations

import asyncio
import io
import subprocess
from pathlib import Path

import pytest

from roost.errors import Invalid
from roost.media import av
from roost.media.sniff import M4A, MOV, MP3, MP4, sniff
from tests.media import samples

needs_ffmpeg = pytest.mark.skipif(
    av.find_tools("ffmpeg") is None,
    reason="ffmpeg and ffprobe are not installed on this machine (poster frames and "
    "durations need them; without them Roost stores video and audio as described in "
    "README.md's Media section)",
)


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


@needs_ffmpeg
def test_given_ffmpeg_when_a_video_with_a_location_is_processed_then_poster_and_no_location(
    tmp_path: Path,
) -> None:
    tools = av.find_tools("ffmpeg")
    assert tools is not None
    video = tmp_path / "clip.mp4"
    source = "testsrc=duration=2:size=320x240:rate=10"
    location = ["-metadata", "location=+48.8584+002.2945/"]
    command = [tools.ffmpeg, "-v", "error", "-f", "lavfi", "-i", source, *location, str(video)]
    subprocess.run(command, check=True)
    assert b"48.8584" in video.read_bytes()

    async def scenario() -> tuple[bytes, dict[str, object], bytes | None]:
        with await av.remux_without_metadata(tools, video, MP4) as clean:
            data = clean.read()
        return data, await av.probe(tools, video), await av.poster_frame(tools, video)

    cleaned, meta, poster = asyncio.run(scenario())
    assert b"48.8584" not in cleaned
    assert meta["width"] == 320 and meta["height"] == 240
    assert 1.5 < float(str(meta["duration"])) < 2.5
    assert poster is not None and poster.startswith(b"\x89PNG")
