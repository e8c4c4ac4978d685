"""Fan-out on write: how long until a post is in every active follower's timeline.

    .venv/bin/python -m bench.fanout [--small 10000] [--large 100000] [--posts 3]

Scaled stack (PostgreSQL + Redis, see bench/_scaled.py), one ``roost serve``
and two ``roost worker`` processes. Three authors: one without followers, one
with ``--small`` and one with ``--large`` active followers (their timelines
exist in Redis, as a read would have left them). For each author, posts through
the API and prints:

  - the POST request's own latency (it must not grow with the follower count:
    fan-out is a job, not part of the request);
  - the time from the POST's answer until the post is in every follower's
    timeline (the fan-out job has finished; checked key by key afterwards).

Targets: under 1 s for 10,000 followers and under 5 s for 100,000. The workers
run with ROOST_FANOUT_MAX_FOLLOWERS above the large count so both authors are
fanned out; with the default threshold (10,000) the large author's posts are
merged at read time instead, and the last line shows that path: the post is in
a follower's home as soon as the POST has answered.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import httpx
import redis

from bench import _results, _scaled, _server
from roost.db.engine import Database
from roost.timelines.redis_keys import COMPLETE, member

_PRIME_BATCH = 5000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--posts", type=int, default=3, help="posts per author")
    args = parser.parse_args(argv)
    print(_server.machine())
    with _scaled.stack() as stack:
        started = time.perf_counter()
        seeded = _scaled.run(stack.settings(), lambda db: _seed(db, args.small, args.large))
        cache = redis.Redis.from_url(stack.redis_url)
        for followers in seeded["followers"].values():
            _prime(cache, stack.prefix, followers)
        print(
            f"seeded {args.small + args.large} followers and primed their timelines "
            f"in {time.perf_counter() - started:.1f}s"
        )
        threshold = str(args.large * 2)
        with _scaled.processes(
            stack, ["serve"], ["worker"], ["worker"], fanout_max_followers=threshold
        ) as ports:
            url = f"http://{_server.HOST}:{ports[0]}"
            print(f"\n{'author':<22}{'POST p50 ms':>12}{'fan-out s (each post)':>32}")
            figures: dict[str, _results.Figure] = {}
            for name, count in (("none", 0), ("small", args.small), ("large", args.large)):
                token = seeded["tokens"][name]
                latencies, fanouts = [], []
                followers = seeded["followers"].get(name, [])
                assert isinstance(followers, list)
                if followers:
                    # Warm-up, not counted: the workers' first job pays for
                    # their connections and caches.
                    _, warm = _post(url, token, f"{name} warm-up")
                    _until_in(cache, f"{stack.prefix}tl:home:{max(followers)}", warm)
                for n in range(args.posts):
                    took, status_id = _post(url, token, f"{name} {n}")
                    latencies.append(took)
                    if followers:
                        last = f"{stack.prefix}tl:home:{max(followers)}"
                        fanouts.append(_until_in(cache, last, status_id))
                        _verify(cache, stack.prefix, followers, status_id)
                    else:
                        time.sleep(0.2)
                shown = ", ".join(f"{f:.2f}" for f in fanouts) or "-"
                figures[f"post_{name}_median_ms"] = _results.lower(
                    statistics.median(latencies) * 1000, "ms"
                )
                if fanouts:
                    figures[f"fanout_{name}_median_s"] = _results.lower(
                        statistics.median(fanouts), "s"
                    )
                print(
                    f"{name + f' ({count:,})':<22}"
                    f"{statistics.median(latencies) * 1000:>12.1f}{shown:>32}"
                )
        with _scaled.processes(stack, ["serve"], ["worker"], ["worker"]) as ports:
            url = f"http://{_server.HOST}:{ports[0]}"
            reader = seeded["tokens"]["large_reader"]
            took, status_id = _post(url, seeded["tokens"]["large"], "merged at read")
            seen = time.perf_counter()
            home = httpx.get(
                url + "/api/v1/timelines/home",
                headers={"Authorization": f"Bearer {reader}"},
                timeout=30,
            ).json()
            visible = str(status_id) in [s["id"] for s in home]
            print(
                f"\ndefault threshold: the large author's post is merged at read time; "
                f"POST {took * 1000:.1f} ms, in a follower's home "
                f"{'at once' if visible else 'NOT YET'} "
                f"(read {(time.perf_counter() - seen) * 1000:.0f} ms)"
            )
            figures["post_merged_at_read_ms"] = _results.lower(took * 1000, "ms")
        cache.close()
    print(f"\n{_server.machine()} (after)")
    _results.record("fanout", figures, extra={"small": args.small, "large": args.large})
    return 0


async def _seed(db: Database, small: int, large: int) -> dict[str, dict[str, object]]:
    tokens: dict[str, object] = {}
    authors: dict[str, int] = {}
    for name in ("none", "small", "large"):
        authors[name], tokens[name] = await _scaled.signed_in(db, f"author_{name}")
    reader, tokens["large_reader"] = await _scaled.signed_in(db, "reader")
    followers: dict[str, object] = {}
    for name, count in (("small", small), ("large", large)):
        ids = await _scaled.bulk_accounts(db, f"f{name}", count)
        await _scaled.bulk_follow(db, ids, authors[name])
        followers[name] = ids
    await _scaled.bulk_follow(db, [reader], authors["large"])
    return {"tokens": tokens, "followers": followers}


def _prime(cache: redis.Redis, prefix: str, followers: list[int]) -> None:
    """Each follower's timeline as a read would leave it: present and complete."""
    for start in range(0, len(followers), _PRIME_BATCH):
        pipe = cache.pipeline(transaction=False)
        for follower in followers[start : start + _PRIME_BATCH]:
            pipe.zadd(f"{prefix}tl:home:{follower}", {COMPLETE: 0})
        pipe.execute()


def _post(url: str, token: str, text: str) -> tuple[float, int]:
    started = time.perf_counter()
    response = httpx.post(
        url + "/api/v1/statuses",
        json={"status": text},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    took = time.perf_counter() - started
    response.raise_for_status()
    return took, int(response.json()["id"])


def _until_in(cache: redis.Redis, key: str, status_id: int, limit_s: float = 120.0) -> float:
    """Seconds until ``key`` holds the post (polled every 2 ms). Fan-out walks the
    followers in id order, so the last follower's timeline is the last written."""
    started = time.perf_counter()
    wanted = member(status_id)
    while cache.zscore(key, wanted) is None:
        if time.perf_counter() - started > limit_s:
            raise SystemExit(f"post {status_id} did not reach {key} within {limit_s:.0f}s")
        time.sleep(0.002)
    return time.perf_counter() - started


def _verify(cache: redis.Redis, prefix: str, followers: object, status_id: int) -> None:
    assert isinstance(followers, list)
    wanted = member(status_id)
    for start in range(0, len(followers), _PRIME_BATCH):
        pipe = cache.pipeline(transaction=False)
        for follower in followers[start : start + _PRIME_BATCH]:
            pipe.zscore(f"{prefix}tl:home:{follower}", wanted)
        missing = sum(score is None for score in pipe.execute())
        if missing:
            raise SystemExit(f"{missing} followers lack post {status_id}: fan-out incomplete")


if __name__ == "__main__":
    sys.exit(main())
