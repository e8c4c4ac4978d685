"""Image processing: what is kept, what is removed, what is refused."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from roost.errors import Invalid
from roost.media.images import ImageLimits, process_image, process_profile_image
from roost.media.sniff import GIF, JPEG, PNG, WEBP, sniff
from tests.media import samples


def _open(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def test_given_a_phone_photo_with_gps_when_processed_then_no_metadata_survives() -> None:
    done = process_image(samples.jpeg_with_gps(), JPEG, ImageLimits())
    for rendition in (done.original, done.small):
        stored = _open(rendition.data)
        assert dict(stored.getexif()) == {}
        assert "exif" not in stored.info and "xmp" not in stored.info
        assert "comment" not in stored.info
        assert b"48,51" not in rendition.data and b"PhoneMaker" not in rendition.data
        assert b"shot at home" not in rendition.data


def test_given_a_rotated_photo_when_processed_then_the_pixels_are_turned_upright() -> None:
    done = process_image(samples.jpeg_with_gps(640, 480, orientation=6), JPEG, ImageLimits())
    assert (done.original.width, done.original.height) == (480, 640)
    assert dict(_open(done.original.data).getexif()) == {}


def test_given_a_large_photo_when_processed_then_it_fits_the_bound_with_a_small_preview() -> None:
    done = process_image(samples.jpeg_with_gps(4000, 3000), JPEG, ImageLimits(max_dimension=1920))
    assert (done.original.width, done.original.height) == (1920, 1440)
    assert max(done.small.width, done.small.height) == 640
    assert len(done.blurhash) == 28 and done.blurhash.isascii()


def test_given_the_bound_is_configured_then_it_is_used() -> None:
    done = process_image(samples.jpeg_with_gps(1000, 500), JPEG, ImageLimits(max_dimension=400))
    assert (done.original.width, done.original.height) == (400, 200)


def test_given_a_transparent_png_when_processed_then_alpha_and_format_are_kept() -> None:
    done = process_image(samples.png(), PNG, ImageLimits())
    assert done.original.format == PNG and _open(done.original.data).mode == "RGBA"
    assert done.small.format == PNG


def test_given_an_animated_gif_when_processed_then_it_stays_animated_without_comments() -> None:
    done = process_image(samples.animated_gif(frames=5), GIF, ImageLimits())
    stored = _open(done.original.data)
    assert stored.format == "GIF" and getattr(stored, "n_frames", 1) == 5
    assert b"made by a test" not in done.original.data
    assert done.animated and done.extra["frames"] == 5
    assert done.small.format == JPEG


def test_given_a_webp_when_processed_then_it_stays_webp() -> None:
    out = io.BytesIO()
    samples.photo(300, 200).save(out, "WEBP")
    fmt = sniff(out.getvalue()[:64])
    assert fmt == WEBP
    done = process_image(out.getvalue(), WEBP, ImageLimits())
    assert _open(done.original.data).format == "WEBP"


@pytest.mark.parametrize("size", [(20_000, 20_000), (9_000, 9_000)])
def test_given_a_decompression_bomb_when_processed_then_it_is_refused_from_its_header(
    size: tuple[int, int],
) -> None:
    # 400 and 81 megapixels: the first beyond Pillow's own guard, the second
    # only beyond Roost's default bound of 64 megapixels.
    with pytest.raises(Invalid, match="too many pixels"):
        process_image(samples.png_bomb(*size), PNG, ImageLimits())


def test_given_an_animation_over_the_pixel_budget_then_it_is_refused() -> None:
    with pytest.raises(Invalid, match="animation has too many pixels"):
        process_image(samples.animated_gif(frames=10), GIF, ImageLimits(max_pixels=5000))


def test_given_a_truncated_jpeg_when_processed_then_it_is_refused() -> None:
    data = samples.jpeg_with_gps()
    with pytest.raises(Invalid, match="not a readable JPG"):
        process_image(data[:300], JPEG, ImageLimits())


def test_given_png_bytes_claimed_as_jpeg_then_the_claim_is_refused() -> None:
    with pytest.raises(Invalid, match="not a readable JPG"):
        process_image(samples.png(), JPEG, ImageLimits())


def test_given_an_avatar_when_processed_then_it_is_cropped_square_without_metadata() -> None:
    done = process_profile_image(samples.jpeg_with_gps(800, 400), JPEG, ImageLimits(), (400, 400))
    stored = _open(done.data)
    assert stored.size == (400, 400) and dict(stored.getexif()) == {}
