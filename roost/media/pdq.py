"""PDQ, Meta's perceptual hash of images, and the distance between two.

A PDQ hash is 256 bits, written as 64 hex digits (the first bit the most
significant, as Meta's tools and the lists shared between services write it).
Two pictures whose hashes differ in few bits look alike: resizing, recompressing
or slightly cropping a picture changes a handful of bits; unrelated pictures
differ in about 128. Meta calls 31 or fewer a confident match.

The hash is computed by ``pdqhash``, a binding of Meta's reference C++ code
(luminance, a Jarosz tent-filter reduction to 64x64, a 2D DCT keeping the
16x16 lowest frequencies, each bit whether its coefficient is above the
median). Its dihedral form gives the hashes of the picture's eight rotations
and mirror images at once, so a mirrored or turned copy of a listed picture
matches too. The picture is first reduced to at most ``HASH_BOX`` pixels a
side (Meta's own tools reduce large pictures too: the 64x64 reduction keeps
nothing finer).

``quality`` (0 to 100) says how much structure the picture has; below about
50 (a flat colour, a faint gradient) hashes of unrelated pictures come close to
each other, so such a hash is not matched (``MIN_QUALITY``).

CPU work on bytes in memory: callers run it in a thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pdqhash  # type: ignore[import-untyped]
from numpy.typing import NDArray

from roost.media import images
from roost.media.sniff import Format

BITS = 256
HASH_BOX = 512
MIN_QUALITY = 50


@dataclass(frozen=True, slots=True)
class ImageHash:
    """The hashes of one picture: ``variants[0]`` as given, then its other
    seven rotations and mirror images; 32 bytes each."""

    variants: tuple[bytes, ...]
    quality: int

    @property
    def hex(self) -> str:
        return self.variants[0].hex()


def _bits_to_bytes(bits: NDArray[np.generic]) -> bytes:
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes()


def hash_pixels(rgb: NDArray[np.uint8]) -> ImageHash:
    """The PDQ hashes of an RGB array (height x width x 3)."""
    vectors, quality = pdqhash.compute_dihedral(rgb)
    return ImageHash(tuple(_bits_to_bytes(v) for v in vectors), int(quality))


def hash_image(data: bytes, fmt: Format, limits: images.ImageLimits) -> ImageHash:
    """The PDQ hashes of an encoded image (its first frame, upright); Invalid
    for an image the media pipeline would refuse as unreadable or too large."""
    picture = images.decode_for_hashing(data, fmt, limits, HASH_BOX)
    return hash_pixels(np.asarray(picture, dtype=np.uint8))


def distance(a: bytes, b: bytes) -> int:
    """The number of bits in which two hashes differ."""
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()


@dataclass(frozen=True, slots=True)
class Nearest:
    index: int
    distance: int


class HashIndex:
    """Many hashes, searched for the one nearest a picture's: a linear scan of
    XOR and population count over all of them and all eight orientations at
    once, each hash kept as four 64-bit words in four columns (15 ms for
    100,000 hashes on a busy two-core machine; bench/known_images.py)."""

    def __init__(self, hashes: Sequence[bytes]) -> None:
        words = np.frombuffer(b"".join(hashes), dtype=">u8").reshape(-1, 4)
        self._columns = [np.ascontiguousarray(words[:, j], dtype=np.uint64) for j in range(4)]
        self.size = len(hashes)

    def nearest(self, picture: ImageHash, max_distance: int) -> Nearest | None:
        """The closest listed hash to any orientation of the picture, if within
        ``max_distance`` bits; None otherwise (or when the index is empty)."""
        if self.size == 0:
            return None
        probes = np.frombuffer(b"".join(picture.variants), dtype=">u8").reshape(-1, 4)
        probes = probes.astype(np.uint64)
        # uint16: four counts of up to 64 would overflow a byte at 256.
        counts = np.zeros((len(picture.variants), self.size), dtype=np.uint16)
        for j, column in enumerate(self._columns):
            counts += np.bitwise_count(column[None, :] ^ probes[:, j, None])
        found = int(counts.argmin())
        variant, index = divmod(found, self.size)
        best = int(counts[variant, index])
        return Nearest(index, best) if best <= max_distance else None
