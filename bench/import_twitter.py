"""A Twitter archive import, timed and measured, as an operator runs it.

    .venv/bin/python -m bench.import_twitter [--tweets 50000] [--parts 2]

Writes a synthetic archive without media (tweets with links, hashtags and
@handles, self-reply threads, replies to others, retweets, quotes of own
tweets, edited tweets, likes and follower lists) into a fresh embedded data
directory's neighbour, then runs ``roost import twitter`` under
``/usr/bin/time -v`` and prints the wall time, the CPU time (user + system:
what the wall time would be on an idle machine, the import being one
process doing one thing at a time) and the peak resident memory of that
process. Targets for 50,000 tweets: under 20 s and under 300 MB. Exits 1
if the import fails or a target is missed. A second run of the same import
(which must add nothing) is timed too.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

TARGET_S = 20.0
TARGET_MB = 300.0
USERNAME = "benchbird"
ACCOUNT_ID = 90210
_EPOCH_MS = 1288834974657
_WORDS = [
    "heron",
    "egret",
    "stork",
    "ibis",
    "crane",
    "plover",
    "dunlin",
    "knot",
    "sanderling",
    "curlew",
    "godwit",
    "avocet",
    "stilt",
    "lapwing",
    "oystercatcher",
    "turnstone",
    "redshank",
    "greenshank",
    "snipe",
    "woodcock",
]
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _classic(m: datetime) -> str:
    return (
        f"{_DAYS[m.weekday()]} {_MONTHS[m.month - 1]} {m.day:02d} "
        f"{m.hour:02d}:{m.minute:02d}:{m.second:02d} +0000 {m.year}"
    )


def _tweet(rng: random.Random, index: int, moment: datetime, ids: list[int]) -> dict[str, object]:
    tweet_id = ((int(moment.timestamp() * 1000) - _EPOCH_MS) << 22) | (index % 4096)
    words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(6, 30)))
    short = f"https://t.co/{index:010d}"
    body: dict[str, object] = {
        "edit_info": {"initial": {"editTweetIds": [str(tweet_id)], "editsRemaining": "5"}},
        "retweeted": False,
        "source": '<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>',
        "entities": {
            "hashtags": [],
            "symbols": [],
            "user_mentions": [],
            "urls": [{"url": short, "expanded_url": f"https://example.org/{index}"}],
        },
        "display_text_range": ["0", "200"],
        "favorite_count": str(rng.randint(0, 50)),
        "id_str": str(tweet_id),
        "id": str(tweet_id),
        "truncated": False,
        "retweet_count": "0",
        "created_at": _classic(moment),
        "favorited": False,
        "lang": "en",
    }
    kind = index % 10
    if kind == 0 and ids:
        body["full_text"] = f"RT @someone: {words}"
    elif kind in (1, 2) and ids:
        parent = ids[-1]
        body.update(
            in_reply_to_status_id_str=str(parent),
            in_reply_to_user_id_str=str(ACCOUNT_ID),
            in_reply_to_screen_name=USERNAME,
        )
        body["full_text"] = f"{words} &amp; more {short}"
    elif kind == 3:
        body.update(
            in_reply_to_status_id_str=str(rng.randint(10**17, 10**18)),
            in_reply_to_user_id_str="77",
            in_reply_to_screen_name="elsewhere",
        )
        body["full_text"] = f"@elsewhere {words}"
    elif kind == 4 and ids:
        quoted = rng.choice(ids)
        body["entities"]["urls"] = [  # type: ignore[index]
            {"url": short, "expanded_url": f"https://twitter.com/{USERNAME}/status/{quoted}"}
        ]
        body["full_text"] = f"{words} {short}"
    else:
        body["full_text"] = f"{words} #{rng.choice(_WORDS)} @friend{index % 97} {short}"
    ids.append(tweet_id)
    return body


def write_archive(path: Path, tweets: int, parts: int, seed: int = 7) -> None:
    """The archive, streamed into the zip (the generator holds no tweet list)."""
    rng = random.Random(seed)
    start = datetime(2015, 1, 1, tzinfo=UTC)
    step = timedelta(seconds=(8 * 365 * 86400) // max(tweets, 1))
    moments = [start + step * i for i in range(tweets)]
    ids: list[int] = []
    bodies = (_tweet(rng, i, m, ids) for i, m in enumerate(moments))
    per_part = -(-tweets // parts)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        account = {
            "account": {
                "username": USERNAME,
                "accountId": str(ACCOUNT_ID),
                "accountDisplayName": "Bench Bird",
                "createdAt": "2011-01-01T00:00:00.000Z",
            }
        }
        archive.writestr("data/account.js", "window.YTD.account.part0 = " + json.dumps([account]))
        for part in range(parts):
            name = "data/tweets.js" if part == 0 else f"data/tweets-part{part}.js"
            with archive.open(name, "w") as out:
                out.write(f"window.YTD.tweets.part{part} = [\n".encode())
                for n in range(per_part):
                    body = next(bodies, None)
                    if body is None:
                        break
                    prefix = b",\n" if n else b""
                    out.write(prefix + json.dumps({"tweet": body}, indent=2).encode())
                out.write(b"\n]")
        likes = [
            {"like": {"tweetId": str(10**17 + i), "fullText": f"liked {i}", "expandedUrl": ""}}
            for i in range(tweets // 10)
        ]
        archive.writestr("data/like.js", "window.YTD.like.part0 = " + json.dumps(likes))
        followers = [{"follower": {"accountId": str(10**9 + i)}} for i in range(tweets // 20)]
        archive.writestr("data/follower.js", "window.YTD.follower.part0 = " + json.dumps(followers))


def _measure(roost: Path, env: dict[str, str], args: list[str]) -> tuple[float, float, float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-v", str(roost), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    took = time.perf_counter() - started
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"roost {' '.join(args)} failed with {done.returncode}")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    cpu = sum(
        float(m.group(1))
        for m in re.finditer(r"(?:User|System) time \(seconds\): ([\d.]+)", done.stderr)
    )
    return took, (int(rss.group(1)) / 1024 if rss else float("nan")), cpu, done.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tweets", type=int, default=50_000)
    parser.add_argument("--parts", type=int, default=2)
    args = parser.parse_args(argv)
    roost = Path(sys.executable).with_name("roost")
    with tempfile.TemporaryDirectory(prefix="roost-bench-import-") as scratch:
        root = Path(scratch)
        archive = root / "twitter.zip"
        started = time.perf_counter()
        write_archive(archive, args.tweets, args.parts)
        print(
            f"wrote {args.tweets} tweets in {args.parts} part(s): "
            f"{archive.stat().st_size / 1e6:.1f} MB zipped, {time.perf_counter() - started:.1f}s"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("ROOST_")}
        env["ROOST_DATA_DIR"] = str(root / "data")
        subprocess.run(
            [str(roost), "accounts", "create", USERNAME, "--email", "b@example.org",
             "--password", "bench password"],
            env=env, check=True, capture_output=True,
        )  # fmt: skip
        command = ["import", "twitter", str(archive), "--account", USERNAME]
        took, rss, cpu, report = _measure(roost, env, command)
        print(report)
        again_took, again_rss, again_cpu, _ = _measure(roost, env, command)
        print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
        print(f"{'run':<28}{'wall s':>9}{'CPU s':>9}{'peak MB':>10}")
        print(f"{'first import':<28}{took:>9.1f}{cpu:>9.1f}{rss:>10.0f}")
        print(f"{'same archive again':<28}{again_took:>9.1f}{again_cpu:>9.1f}{again_rss:>10.0f}")
        print(f"targets: under {TARGET_S:.0f} s and {TARGET_MB:.0f} MB for 50,000 tweets")
        print(f"tweets per second: {args.tweets / took:.0f}")
        missed = took > TARGET_S or rss > TARGET_MB
        return 1 if missed and args.tweets >= 50_000 else 0


if __name__ == "__main__":
    sys.exit(main())
