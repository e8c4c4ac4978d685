"""A Twitter archive import, timed and measured, as an operator runs it.

    .venv/bin/python -m bench.import_twitter [--tweets 50000] [--parts 2] [--oldest-first]

Writes a synthetic archive without media (tweets with links, hashtags and
@handles, self-reply threads, replies to others, retweets, quotes of own
tweets, edited tweets, likes and follower lists; newest tweet first, as
Twitter writes them) beside a fresh embedded data directory, then runs
``roost import twitter`` under ``/usr/bin/time -v`` and prints the wall time
of the whole command (process start to exit), its CPU time (user + system:
roughly what the wall time would be on an idle machine, the import doing one
thing at a time) and its peak resident memory. Then it counts the posts and
threaded replies in the database against what the archive must give. A
second run of the same import (which must add nothing) is timed too.

Targets for 50,000 tweets: under 20 s wall and under 300 MB peak. Exits 1 if
the import fails, leaves other than the expected posts, or misses a target.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import _results

TARGET_S = 20.0
TARGET_MB = 300.0
EDIT_EVERY = 50
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


def _snowflake(moment: datetime, index: int) -> int:
    return ((int(moment.timestamp() * 1000) - _EPOCH_MS) << 22) | (index % 4096)


def _edit_group(index: int, ids: list[int]) -> list[int]:
    """Every 50th tweet was edited once: it and the next one are its versions."""
    if index % EDIT_EVERY == 5 and index + 1 < len(ids):
        return [ids[index], ids[index + 1]]
    if index % EDIT_EVERY == 6:
        return [ids[index - 1], ids[index]]
    return [ids[index]]


def _tweet(rng: random.Random, index: int, moment: datetime, ids: list[int]) -> dict[str, object]:
    """Tweet ``index`` (0 the oldest); ``ids`` holds every tweet's id."""
    tweet_id = ids[index]
    words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(6, 30)))
    short = f"https://t.co/{index:010d}"
    group = _edit_group(index, ids)
    if len(group) > 1 and tweet_id == group[-1]:
        words += " (edited)"
    body: dict[str, object] = {
        "edit_info": {"initial": {"editTweetIds": [str(i) for i in group], "editsRemaining": "4"}},
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
    if kind == 0 and index:
        body["full_text"] = f"RT @someone: {words}"
    elif kind in (1, 2) and index:
        parent = ids[index - 1]
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
    elif kind == 4 and index:
        quoted = ids[rng.randrange(index)]
        body["entities"]["urls"] = [  # type: ignore[index]
            {"url": short, "expanded_url": f"https://twitter.com/{USERNAME}/status/{quoted}"}
        ]
        body["full_text"] = f"{words} {short}"
    else:
        body["full_text"] = f"{words} #{rng.choice(_WORDS)} @friend{index % 97} {short}"
    return body


@dataclass(frozen=True)
class Expected:
    """What a correct import of the generated archive leaves in the database."""

    posts: int
    replies: int  # threaded under an imported post


def expected(tweets: int) -> Expected:
    earlier_versions = sum(1 for i in range(tweets) if i % EDIT_EVERY == 5 and i + 1 < tweets)
    replies = sum(1 for i in range(1, tweets) if i % 10 in (1, 2))
    return Expected(posts=tweets - earlier_versions, replies=replies)


def write_archive(
    path: Path, tweets: int, parts: int, seed: int = 7, *, newest_first: bool = True
) -> None:
    """The archive, streamed into the zip (the generator holds no tweet list).

    Twitter lists the newest tweet first, so by default every self-reply comes
    before the tweet it answers and is threaded after the posts are written.
    """
    rng = random.Random(seed)
    start = datetime(2015, 1, 1, tzinfo=UTC)
    step = timedelta(seconds=(8 * 365 * 86400) // max(tweets, 1))
    moments = [start + step * i for i in range(tweets)]
    ids = [_snowflake(m, i) for i, m in enumerate(moments)]
    order = range(tweets - 1, -1, -1) if newest_first else range(tweets)
    bodies = (_tweet(rng, i, moments[i], ids) for i in order)
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


@dataclass(frozen=True)
class Measured:
    wall_s: float  # the command, from its process start to its exit
    cpu_s: float  # user + system of the command's process
    peak_mb: float  # its peak resident set size
    output: str


def _measure(roost: Path, env: dict[str, str], args: list[str]) -> Measured:
    """Run ``roost ARGS`` under ``/usr/bin/time -v``: the clock starts before
    the process is started and stops once it has exited."""
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
    peak = int(rss.group(1)) / 1024 if rss else float("nan")
    return Measured(took, cpu, peak, done.stdout)


def _counts(data_dir: Path) -> tuple[int, int]:
    """(posts, threaded replies) in the data directory's database."""
    with contextlib.closing(sqlite3.connect(data_dir / "roost.sqlite3")) as db:
        posts = db.execute("SELECT count(*) FROM statuses").fetchone()[0]
        replies = db.execute(
            "SELECT count(*) FROM statuses WHERE in_reply_to_id IS NOT NULL"
        ).fetchone()[0]
    return int(posts), int(replies)


def _load() -> str:
    one, five, _fifteen = os.getloadavg()
    return f"{one:.1f} (5 min: {five:.1f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tweets", type=int, default=50_000)
    parser.add_argument("--parts", type=int, default=2)
    parser.add_argument(
        "--oldest-first",
        action="store_true",
        help="write the tweets oldest first (Twitter writes the newest first)",
    )
    args = parser.parse_args(argv)
    roost = Path(sys.executable).with_name("roost")
    want = expected(args.tweets)
    with tempfile.TemporaryDirectory(prefix="roost-bench-import-") as scratch:
        root = Path(scratch)
        archive = root / "twitter.zip"
        started = time.perf_counter()
        write_archive(archive, args.tweets, args.parts, newest_first=not args.oldest_first)
        print(
            f"wrote {args.tweets} tweets in {args.parts} part(s), "
            f"{'oldest' if args.oldest_first else 'newest'} first: "
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
        load_before = _load()
        first = _measure(roost, env, command)
        load_after = _load()
        print(first.output)
        posts, replies = _counts(root / "data")
        again = _measure(roost, env, command)
        posts_again, replies_again = _counts(root / "data")
        print(f"machine: {os.cpu_count()} CPUs, load average {load_before} before the import, "
              f"{load_after} after it")  # fmt: skip
        print(f"{'run':<28}{'wall s':>9}{'CPU s':>9}{'peak MB':>10}")
        for name, run in (("first import", first), ("same archive again", again)):
            print(f"{name:<28}{run.wall_s:>9.1f}{run.cpu_s:>9.1f}{run.peak_mb:>10.0f}")
        print("wall: the whole `roost import twitter` command, process start to exit;")
        print("CPU: its user + system time (roughly the wall time on an idle machine)")
        print(f"tweets per second (wall): {args.tweets / first.wall_s:.0f}")
        problems: list[str] = []
        if (posts, replies) != (want.posts, want.replies):
            problems.append(
                f"the import left {posts} posts ({replies} threaded replies), "
                f"expected {want.posts} ({want.replies})"
            )
        if (posts_again, replies_again) != (posts, replies):
            problems.append(f"importing again changed the posts to {posts_again}")
        if args.tweets >= 50_000:
            if first.wall_s > TARGET_S:
                problems.append(f"wall {first.wall_s:.1f} s is over the {TARGET_S:.0f} s target")
            if first.peak_mb > TARGET_MB:
                problems.append(
                    f"peak memory {first.peak_mb:.0f} MB is over the {TARGET_MB:.0f} MB target"
                )
        verdict = "; ".join(problems) or (
            "met" if args.tweets >= 50_000 else "not judged below 50,000 tweets"
        )
        print(
            f"targets for 50,000 tweets: under {TARGET_S:.0f} s wall and {TARGET_MB:.0f} MB "
            f"peak: {verdict}"
        )
        if problems:
            return 1
        _results.record(
            "import_twitter",
            {
                "first_wall_s": _results.lower(first.wall_s, "s"),
                "first_cpu_s": _results.lower(first.cpu_s, "s"),
                "first_peak_mb": _results.lower(first.peak_mb, "MB"),
                "again_wall_s": _results.lower(again.wall_s, "s"),
            },
            extra={"tweets": args.tweets, "parts": args.parts},
        )
        return 0


if __name__ == "__main__":
    sys.exit(main())
