"""Spam-wave clustering: its throughput, and what it adds to posting.

    .venv/bin/python -m bench.spam_clusters [--database-url postgresql://…/empty_db]

On a fresh embedded data directory (or an empty PostgreSQL database): the
drill's scene (tests/spam/scene.py, tests/spam/corpus.py): 350 accounts
signed up through the sign-up action, then 2,200 posts (a wave of 200 near
duplicates among 2,000 ordinary posts) published with ``do_create_status``,
the action the API uses, one transaction each. Every other post is published
without leaving the clustering job (``cluster=False``), alternating, so both
kinds meet the same database state and machine load in the same run:

1. Added cost to posting: the mean and median time to publish a post with
   the job left and without it, and their ratio. The clustering itself is
   not in it: it runs later, in a job.
2. Clustering throughput: then the clustering work of every post that left
   its job (``do_cluster_post`` and the prune in one transaction, as the job
   handler runs them), in posting order: posts per second, and
   the MinHash signature alone per post.

Prints the drill's figures for the half that was clustered as a sanity
check (a wave of 100 among 1,000, every other post). Figures move by some
per cent between runs on a busy machine.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from roost.config import load_settings
from roost.db.engine import Database
from roost.db.migrate import upgrade
from roost.domain.accounts import passwords
from roost.domain.spam import minhash
from roost.domain.spam.clustering import do_cluster_post, do_prune
from roost.process import prepare_process
from tests.spam.corpus import corpus
from tests.spam.scene import (
    ORDINARY_ACCOUNTS,
    WAVE_ACCOUNTS,
    Scene,
    figures,
    publish,
    sign_up_everyone,
)


async def run(data_dir: Path, database_url: str) -> None:
    settings = load_settings(
        data_dir=data_dir, database_url=database_url, redis_url="", domain="localhost"
    )
    prepare_process(settings)
    passwords.use_fast_hashing_for_tests()
    db = Database(settings)
    try:
        await upgrade(db)
        ordinary, wave = await sign_up_everyone(db)
        posts = corpus(
            ordinary_accounts=ORDINARY_ACCOUNTS,
            wave_accounts=WAVE_ACCOUNTS,
            usernames=[f"person{n}" for n in range(ORDINARY_ACCOUNTS)],
        )
        timings: dict[bool, list[float]] = {True: [], False: []}
        clustered_posts, clustered_ids = [], []
        for n, post in enumerate(posts):
            author = wave[post.author] if post.wave else ordinary[post.author]
            with_job = n % 2 == 0
            started = time.perf_counter()
            status_id = await publish(db, settings, author, post.text, cluster=with_job)
            timings[with_job].append(time.perf_counter() - started)
            if with_job:
                clustered_posts.append(post)
                clustered_ids.append(status_id)

        started = time.perf_counter()
        for status_id in clustered_ids:
            async with db.write() as tx:
                await do_cluster_post(tx, settings, status_id)
                await do_prune(tx, settings)
        clustering = time.perf_counter() - started

        sample = [minhash.features(p.text, minhash.Author(new=True)) for p in posts[:500]]
        started = time.perf_counter()
        for found in sample:
            minhash.signature(found)
        per_signature = (time.perf_counter() - started) / len(sample)

        scene = Scene(clustered_posts, clustered_ids, ordinary, wave)
        result = await figures(db, settings, scene)
    finally:
        await db.dispose()

    engine = "PostgreSQL" if database_url else "SQLite"
    with_mean, without_mean = statistics.mean(timings[True]), statistics.mean(timings[False])
    with_median = statistics.median(timings[True])
    without_median = statistics.median(timings[False])
    print(f"spam-wave clustering on {engine}, {len(posts)} posts published")
    print(
        f"posting with the clustering job: mean {with_mean * 1000:.2f} ms, "
        f"median {with_median * 1000:.2f} ms ({len(timings[True])} posts)"
    )
    print(
        f"posting without it:              mean {without_mean * 1000:.2f} ms, "
        f"median {without_median * 1000:.2f} ms ({len(timings[False])} posts)"
    )
    print(
        f"added cost to posting: x{with_mean / without_mean:.3f} (means), "
        f"x{with_median / without_median:.3f} (medians)"
    )
    print(
        f"clustering: {len(clustered_ids)} posts in {clustering:.2f} s = "
        f"{len(clustered_ids) / clustering:.0f} posts/s "
        f"({clustering / len(clustered_ids) * 1000:.2f} ms a post, of which the "
        f"MinHash signature {per_signature * 1000:.2f} ms)"
    )
    print(f"the clustered half: {result}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default="", help="an empty PostgreSQL database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="roost-bench-spam-") as tmp:
        asyncio.run(run(Path(tmp), args.database_url))


if __name__ == "__main__":
    main()
