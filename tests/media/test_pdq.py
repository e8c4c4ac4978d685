"""PDQ hashes and the search over a list of them."""

from __future__ import annotations

import random

from PIL import Image

from roost.media import images, pdq
from roost.media.sniff import PNG
from tests.known_images import pictures


def test_given_random_lists_when_searched_then_the_nearest_is_what_a_plain_scan_finds() -> None:
    pick = random.Random(5)
    listed = [pick.randbytes(32) for _ in range(500)]
    index = pdq.HashIndex(listed)
    for _ in range(100):
        variants = [pick.randbytes(32) for _ in range(8)]
        near = bytearray(pick.choice(listed))
        for bit in pick.sample(range(256), pick.randrange(40)):
            near[bit // 8] ^= 0x80 >> (bit % 8)
        variants[pick.randrange(8)] = bytes(near)
        picture = pdq.ImageHash(tuple(variants), 100)
        plain = min(pdq.distance(v, h) for v in variants for h in listed)
        found = index.nearest(picture, 256)
        assert found is not None and found.distance == plain
        assert min(pdq.distance(v, listed[found.index]) for v in variants) == plain
        assert (index.nearest(picture, plain - 1) is None) == (plain > 0)


def test_given_hashes_differing_in_every_bit_then_the_distance_is_256_not_zero() -> None:
    index = pdq.HashIndex([bytes(32)])
    found = index.nearest(pdq.ImageHash((b"\xff" * 32,), 100), 256)
    assert found == pdq.Nearest(0, 256)
    assert pdq.HashIndex([]).nearest(pdq.ImageHash((bytes(32),), 100), 256) is None


def test_given_a_picture_when_hashed_then_64_hex_digits_eight_orientations_full_quality() -> None:
    hashed = pdq.hash_image(pictures.png(3), PNG, images.ImageLimits())
    assert len(hashed.hex) == 64 and len(hashed.variants) == 8 and hashed.quality >= 90
    assert bytes.fromhex(hashed.hex) == hashed.variants[0]


def test_given_a_flat_picture_when_hashed_then_its_quality_is_too_low_to_match() -> None:
    flat = pictures.encoded(Image.new("RGB", (300, 200), (40, 90, 160)))
    assert pdq.hash_image(flat, PNG, images.ImageLimits()).quality < pdq.MIN_QUALITY
