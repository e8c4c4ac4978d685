"""A data directory with one viewer following many authors who wrote many posts.

Accounts, follows, the app and the token are made by the domain actions, as
the CLI and the API make them. The posts are inserted in bulk with SQLAlchemy
Core (20,000 posts through the API would take longer than the benchmark), in
the shapes ``do_create_status`` and ``do_reblog`` write: HTML rendered by
``content.render``, mentions and tags linked, and every counter the actions
keep (statuses_count, last_status_at, replies_count, reblogs_count,
favourites_count) set to what those actions would have left.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, update

from roost.clock import utcnow
from roost.config import load_settings
from roost.db.engine import Database
from roost.db.migrate import upgrade
from roost.db.tables import accounts, bookmarks, favourites, mentions, status_tags, statuses, tags
from roost.domain.accounts import passwords
from roost.domain.accounts.actions import NewAccount, do_create_account
from roost.domain.graph.actions import do_follow
from roost.domain.oauth.actions import do_issue_token, do_register_app
from roost.domain.oauth.scopes import parse as parse_scopes
from roost.domain.statuses import content
from roost.domain.types import Viewer, Visibility
from roost.ids import id_for_time
from roost.jobs.runner import JobRunner
from roost.process import prepare_process
from roost.services import build_services

BASE_URL = "http://localhost"
TAGS = [f"topic{n}" for n in range(20)]
_SAMPLE_TEXT = (
    "the a small sturdy roost bird feather morning evening garden river city train coffee "
    "book music walk rain sun cloud wind quiet busy today tomorrow again new old friend"
)
WORDS = _SAMPLE_TEXT.split()


@dataclass(frozen=True)
class Seeded:
    viewer_id: int
    author_ids: list[int]
    token: str
    posts: int


def seed(data_dir: Path, *, authors: int = 200, posts: int = 20_000, rng_seed: int = 7) -> Seeded:
    return asyncio.run(_seed(data_dir, authors, posts, random.Random(rng_seed)))


def migrate(data_dir: Path) -> None:
    """Create the data directory's database at the newest schema."""

    async def body() -> None:
        db = Database(_settings(data_dir))
        try:
            await upgrade(db)
        finally:
            await db.dispose()

    asyncio.run(body())


def _settings(data_dir: Path) -> Any:
    """Embedded settings for ``data_dir``, with this process prepared for them
    (the key store that seals the seeded rows)."""
    settings = load_settings(data_dir=data_dir, database_url="", redis_url="", domain="localhost")
    prepare_process(settings)
    return settings


async def _seed(data_dir: Path, authors: int, posts: int, rng: random.Random) -> Seeded:
    # Argon2 at full cost takes a third of a second per account here; what is
    # benchmarked never checks a password, so the seeding uses cheap hashes.
    passwords.use_fast_hashing_for_tests()
    settings = _settings(data_dir)
    db = Database(settings)
    try:
        await upgrade(db)
        async with db.write() as tx:
            viewer_id = await do_create_account(
                tx, NewAccount("viewer", "viewer@example.org", "a long enough password")
            )
            author_ids = [
                await do_create_account(
                    tx,
                    NewAccount(f"author{n:03d}", f"author{n:03d}@example.org", "another password"),
                )
                for n in range(authors)
            ]
            client = await do_register_app(
                tx, "Bench Client", "urn:ietf:wg:oauth:2.0:oob", "read write follow", None
            )
        viewer = Viewer(account_id=viewer_id)
        async with db.write() as tx:
            for author_id in author_ids:
                await do_follow(tx, viewer, author_id)
            issued = await do_issue_token(
                tx, viewer_id, client.id, parse_scopes("read write follow")
            )
        # The follow notifications, so the server starts with an empty queue.
        await JobRunner(build_services(settings, db).job_context()).drain()
        async with db.write() as tx:
            await _write_posts(tx.conn, viewer_id, author_ids, client.id, posts, rng)
    finally:
        await db.dispose()
    return Seeded(viewer_id, author_ids, issued.token, posts)


async def _write_posts(
    conn: Any,
    viewer_id: int,
    author_ids: list[int],
    app_id: int,
    count: int,
    rng: random.Random,
) -> None:
    now = utcnow()
    usernames = {aid: f"author{n:03d}" for n, aid in enumerate(author_ids)}
    local = {name: (aid, name) for aid, name in usernames.items()}
    moments = sorted(now - timedelta(seconds=rng.uniform(60, 30 * 86400)) for _ in range(count))

    rows: list[dict[str, Any]] = []
    mention_rows: list[dict[str, Any]] = []
    tag_rows: list[dict[str, Any]] = []
    tag_ids = {name: id_for_time(now - timedelta(days=31), n) for n, name in enumerate(TAGS)}
    by_id: dict[int, dict[str, Any]] = {}
    boostable: list[int] = []  # public or unlisted originals
    boosts_made: set[tuple[int, int]] = set()
    per_author: dict[int, list[datetime]] = {aid: [] for aid in [*author_ids, viewer_id]}

    for n, moment in enumerate(moments):
        author = rng.choice(author_ids)
        status_id = id_for_time(moment, n)
        roll = rng.random()
        row: dict[str, Any] = {
            "id": status_id,
            "account_id": author,
            "in_reply_to_id": None,
            "in_reply_to_account_id": None,
            "reblog_of_id": None,
            "application_id": app_id if rng.random() < 0.5 else None,
            "visibility": int(Visibility.PUBLIC),
            "text": "",
            "content": "",
            "spoiler_text": "",
            "sensitive": False,
            "language": "en",
            "replies_count": 0,
            "reblogs_count": 0,
            "favourites_count": 0,
            "created_at": moment,
            "edited_at": None,
        }
        if roll < 0.05 and boostable:
            original = by_id[rng.choice(boostable[-2000:])]
            if original["account_id"] != author and (author, original["id"]) not in boosts_made:
                boosts_made.add((author, original["id"]))
                row.update(reblog_of_id=original["id"], language=None)
                original["reblogs_count"] += 1
                rows.append(row)
                by_id[status_id] = row
                per_author[author].append(moment)
                continue
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 40)))
        text = words[:1].upper() + words[1:] + "."
        if rng.random() < 0.1:
            text += f" #{rng.choice(TAGS)}"
        parent = None
        if roll > 0.9 and rows:
            parent = by_id[rows[max(0, len(rows) - rng.randint(1, 500))]["id"]]
            if parent["reblog_of_id"] is not None or parent["account_id"] == author:
                parent = None
        if parent is not None:
            text = f"@{usernames[parent['account_id']]} {text}"
            row["in_reply_to_id"] = parent["id"]
            row["in_reply_to_account_id"] = parent["account_id"]
            parent["replies_count"] += 1
        rendered = content.render(text, local, BASE_URL)
        visibility = rng.choices(
            [Visibility.PUBLIC, Visibility.UNLISTED, Visibility.PRIVATE], [80, 10, 10]
        )[0]
        row.update(text=text, content=rendered.html, visibility=int(visibility))
        mention_rows += [{"status_id": status_id, "account_id": a} for a in rendered.mentioned_ids]
        tag_rows += [{"status_id": status_id, "tag_id": tag_ids[t.lower()]} for t in rendered.tags]
        rows.append(row)
        by_id[status_id] = row
        per_author[author].append(moment)
        if visibility in (Visibility.PUBLIC, Visibility.UNLISTED):
            boostable.append(status_id)

    # The viewer's own interactions on recent posts, so the per-viewer flags
    # (favourited, bookmarked, reblogged) have something to find.
    recent = [r for r in rows[-400:] if r["reblog_of_id"] is None]
    favourite_rows = []
    for n, row in enumerate(rng.sample(recent, 60)):
        row["favourites_count"] += 1
        favourite_rows.append(
            {
                "id": id_for_time(now, 1000 + n),
                "account_id": viewer_id,
                "status_id": row["id"],
                "created_at": now,
            }
        )
    bookmark_rows = [
        {
            "id": id_for_time(now, 2000 + n),
            "account_id": viewer_id,
            "status_id": r["id"],
            "created_at": now,
        }
        for n, r in enumerate(rng.sample(recent, 20))
    ]
    for n, original in enumerate(rng.sample([by_id[i] for i in boostable[-300:]], 10)):
        moment = now - timedelta(seconds=30 - n)
        boost = {
            "id": id_for_time(moment, n),
            "account_id": viewer_id,
            "in_reply_to_id": None,
            "in_reply_to_account_id": None,
            "reblog_of_id": original["id"],
            "application_id": app_id,
            "visibility": int(Visibility.PUBLIC),
            "text": "",
            "content": "",
            "spoiler_text": "",
            "sensitive": False,
            "language": None,
            "replies_count": 0,
            "reblogs_count": 0,
            "favourites_count": 0,
            "created_at": moment,
            "edited_at": None,
        }
        original["reblogs_count"] += 1
        rows.append(boost)
        per_author[viewer_id].append(moment)

    await conn.execute(
        insert(tags),
        [
            {"id": i, "name": n, "name_key": n.lower(), "created_at": now}
            for n, i in tag_ids.items()
        ],
    )
    await conn.execute(insert(statuses), rows)
    await conn.execute(insert(mentions), mention_rows)
    if tag_rows:
        await conn.execute(insert(status_tags), tag_rows)
    await conn.execute(insert(favourites), favourite_rows)
    await conn.execute(insert(bookmarks), bookmark_rows)
    for account_id, moments_of in per_author.items():
        if moments_of:
            await conn.execute(
                update(accounts)
                .where(accounts.c.id == account_id)
                .values(statuses_count=len(moments_of), last_status_at=max(moments_of))
            )
