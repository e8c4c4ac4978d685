"""PDQ time per image, against decoding the same image, in one run.

    .venv/bin/python -m bench.known_images [--runs 25] [--list-size 100000]

Every image that enters is hashed before it is stored
(roost/domain/known_images/screening.py). This times, for two kinds of
picture (a 640x480 PNG of shapes, as the drill uploads; a 12-megapixel phone
JPEG, as bench/media_upload.py makes), interleaved so a busy neighbour slows
all alike:

- decoding the image alone (Pillow, whole, to RGB): the floor of any check;
- PDQ as the screen runs it (decode reduced to 512 px, upright, eight
  orientations): ``roost.media.pdq.hash_image``;
- the whole media processing of an upload (``images.process_image``), the
  work the hash is added to;
- the nearest-hash search in a list of ``--list-size`` random hashes.

Prints medians and the ratios. Target: hashing costs less than the upload's
own processing (ratio below 1), and a search in 100,000 hashes under 20 ms.
Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import time
from collections.abc import Callable

from PIL import Image, ImageDraw, ImageFilter

from bench.media_upload import phone_photo
from roost.media import images, pdq
from roost.media.sniff import JPEG, PNG, Format

LIMITS = images.ImageLimits()


def shapes_png(seed: int) -> bytes:
    pick = random.Random(seed)
    image = Image.new("RGB", (640, 480), (pick.randrange(256), 90, pick.randrange(256)))
    draw = ImageDraw.Draw(image)
    for _ in range(14):
        left, top = pick.randrange(640), pick.randrange(480)
        right, bottom = left + pick.randrange(20, 320), top + pick.randrange(20, 240)
        fill = (pick.randrange(256), pick.randrange(256), pick.randrange(256))
        draw.ellipse((left, top, right, bottom), fill=fill)
    out = io.BytesIO()
    image.filter(ImageFilter.GaussianBlur(2)).save(out, "PNG")
    return out.getvalue()


def _timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _decode(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as image:
        image.convert("RGB")


def measure(data: bytes, fmt: Format, runs: int) -> dict[str, float]:
    steps: dict[str, Callable[[], object]] = {
        "decode": lambda: _decode(data),
        "pdq": lambda: pdq.hash_image(data, fmt, LIMITS),
        "process": lambda: images.process_image(data, fmt, LIMITS),
    }
    times: dict[str, list[float]] = {name: [] for name in steps}
    for step in steps.values():
        step()  # warm
    for _ in range(runs):
        for name, step in steps.items():
            times[name].append(_timed(step))
    return {name: statistics.median(values) for name, values in times.items()}


def search_time(size: int, runs: int) -> float:
    pick = random.Random(7)
    index = pdq.HashIndex([pick.randbytes(32) for _ in range(size)])
    probe = pdq.hash_image(shapes_png(1), PNG, LIMITS)
    return statistics.median(_timed(lambda: index.nearest(probe, 31)) for _ in range(runs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--list-size", type=int, default=100_000)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; medians of {args.runs}")
    failed = False
    for label, data, fmt, runs in (
        ("640x480 PNG", shapes_png(2), PNG, args.runs),
        ("4000x3000 JPEG", phone_photo(), JPEG, max(3, args.runs // 5)),
    ):
        got = measure(data, fmt, runs)
        print(
            f"{label:>15}: decode {got['decode'] * 1000:7.1f} ms   "
            f"PDQ {got['pdq'] * 1000:7.1f} ms ({got['pdq'] / got['decode']:.2f}x decode)   "
            f"upload processing {got['process'] * 1000:7.1f} ms "
            f"(PDQ is {got['pdq'] / got['process']:.2f}x of it)"
        )
        failed |= got["pdq"] >= got["process"]
    searched = search_time(args.list_size, args.runs)
    print(
        f"nearest of 8 orientations in {args.list_size:,} listed hashes: {searched * 1000:.1f} ms"
    )
    failed |= args.list_size <= 100_000 and searched > 0.020
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
