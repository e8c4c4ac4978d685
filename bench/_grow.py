"""A grown installation: bench.routes' seed made by the actions, then volume in bulk.

``build(settings, posts=..., accounts=...)`` first seeds the data directory
(or database) as ``bench.routes`` does, through the domain actions the API
calls (the viewer, 30 authors, ~1,200 posts, a 50-reply thread, favourites,
bookmarks, pins, media, a list; jobs drained). Then it adds accounts and posts
up to the size asked for with SQLAlchemy Core bulk inserts, in the shapes the
actions write, keeping what the actions would have left consistent:

- accounts and their users (sealed addresses, blind index, one password hash),
  their keys made in one batch in the key store;
- a power-law follow graph (out-degrees from a Pareto law; targets drawn by a
  Zipf law over a popularity rank, so a few accounts have very many followers
  and most have few; the seed's accounts among the most followed), each follow
  with its ``follow`` notification, grouped as ``group_key_for`` groups them;
  ``followers_count`` and ``following_count``;
- posts by a Zipf law over the same rank: plain ones (the words
  ``bench.routes`` uses, hashtags, mentions), reply chains (``replies_count``,
  the mention of the parent's author), boosts (``reblogs_count``, a ``reblog``
  notification), direct posts with mentions (their conversation and its
  participants), media attachments (rows cloned from one the actions made, so
  the file exists), favourites (``favourites_count``, grouped ``favourite``
  notifications), a ``mention`` notification per mention; sealed text as
  ``new_status_row`` seals it; ``statuses_count`` and ``last_status_at``;
- the search index, rebuilt from the posts by the index's own ``rebuild`` (as
  a restore does). Redis home timelines (scaled) are rebuilt on first read.

The bulk posts are older than the seed's (spread over the 60 days before it),
so the pages the routes read first are the seed's, with the volume behind
them, in the indexes and in every count and scan a query makes.
"""

from __future__ import annotations

import bisect
import itertools
import random
import secrets
import time
from array import array
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, func, insert, select, update

from bench import routes

CHUNK = 5000
CACHE_KIB = 256 * 1024
TAG_NAMES = [*routes.TAGS, *(f"growth{n}" for n in range(200))]


@dataclass(frozen=True)
class Size:
    name: str
    posts: int
    accounts: int


SIZES = {
    "2k": Size("2k", 2_000, 200),  # a quick look that it all works
    "10k": Size("10k", 10_000, 1_000),
    "100k": Size("100k", 100_000, 10_000),
    "1m": Size("1m", 1_000_000, 100_000),
}


@dataclass
class Built:
    seeded: routes.Seeded
    seed_s: float
    bulk_s: float
    index_s: float
    rows: dict[str, int]


async def build(
    settings: Any,
    size: Size,
    *,
    seeded: routes.Seeded | None = None,
    rng_seed: int = 11,
    recent: float = 0.0,
) -> Built:
    """Seed through the actions (unless ``seeded``: a copy of a data directory
    they seeded), then grow to ``size`` in bulk."""
    from roost.db.engine import Database
    from roost.ops.derived import _reindex_search
    from roost.process import prepare_process
    from roost.services import build_services

    started = time.perf_counter()
    if seeded is None:
        seeded = await seed(settings, rng_seed=rng_seed)
    else:
        prepare_process(settings)
    seed_s = time.perf_counter() - started
    db = Database(settings)
    try:
        started = time.perf_counter()
        grower = _Grower(db, settings, size, random.Random(rng_seed + 1), recent)
        await grower.run()
        bulk_s = time.perf_counter() - started
        started = time.perf_counter()
        await _reindex_search(build_services(settings, db))
        index_s = time.perf_counter() - started
        if not db.is_sqlite:
            await _vacuumed(db)
    finally:
        await db.dispose()
    seeded.posts += grower.rows.get("statuses", 0)
    seeded.notes.append(
        f"plus {grower.rows.get('statuses', 0)} posts and {grower.rows.get('accounts', 0)}"
        f" accounts in bulk (bench/_grow.py) in {bulk_s:.0f}s, search index {index_s:.0f}s"
    )
    return Built(seeded, seed_s, bulk_s, index_s, grower.rows)


async def _vacuumed(db: Any) -> None:
    """VACUUM (ANALYZE) the built database, as autovacuum would have by the
    time an installation grew this large: without it the planner has no
    statistics until the server's first start analyzes (during the first
    measurement) and index-only scans visit the heap for every row, where
    a PostgreSQL whose autovacuum is off (as on a test machine) leaves it."""
    from sqlalchemy import text

    async with db.engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        # One statement for the whole database: longer than the server's
        # statement timeout at 1M posts.
        await conn.execute(text("SET statement_timeout = 0"))
        await conn.execute(text("VACUUM (ANALYZE)"))


async def seed(settings: Any, *, rng_seed: int = 11) -> routes.Seeded:
    """bench.routes' seed, through the actions."""
    return await routes.seed(settings, posts=1200, bulk=0, rng=random.Random(rng_seed))


def _id_tables() -> list[Any]:
    """The tables the bulk build writes rows with ids of its own into."""
    from roost.db import tables

    return [
        tables.accounts,
        tables.tags,
        tables.follows,
        tables.notifications,
        tables.statuses,
        tables.media_attachments,
        tables.conversation_participants,
        tables.favourites,
    ]


def _zipf_cumulative(n: int, exponent: float) -> list[float]:
    return list(itertools.accumulate(1.0 / (rank + 1) ** exponent for rank in range(n)))


class _Grower:
    def __init__(
        self, db: Any, settings: Any, size: Size, rng: random.Random, recent: float = 0.0
    ) -> None:
        self.db = db
        self.recent = recent
        self.base_url = settings.base_url
        self.size = size
        self.rng = rng
        self.rows: dict[str, int] = {}
        self.seq = itertools.count(1)
        self.used: set[int] = set()

    def _id(self, moment: datetime) -> int:
        from roost.ids import id_for_time

        # An id is a millisecond and a 16-bit salt: past 65,536 rows the
        # sequence wraps, and rows of a 1M build placed in the same
        # millisecond would share one. Every id handed out is kept, and the
        # next salt taken until one is free (a few hundred MB at 1M posts).
        candidate = id_for_time(moment, next(self.seq))
        while candidate in self.used:
            candidate += 1
        self.used.add(candidate)
        return candidate

    async def _insert(self, table: Any, rows: list[dict[str, Any]], tx: Any = None) -> None:
        """``rows`` into ``table`` in one transaction (``tx``'s, if given)."""
        if tx is None:
            async with self.db.write() as own:
                await self._insert(table, rows, own)
            return
        if self.db.is_sqlite:
            # Index pages in memory: with SQLite's default 2 MB cache, inserts
            # into a growing index (notifications.dedupe_key, the statuses'
            # indexes) reread and rewrite pages through the WAL at every
            # commit, and a 1M build wrote tens of GB for a 2 GB file.
            await tx.conn.exec_driver_sql(f"PRAGMA cache_size=-{CACHE_KIB}")
        for at in range(0, len(rows), CHUNK):
            await tx.conn.execute(insert(table), rows[at : at + CHUNK])
        self.rows[table.name] = self.rows.get(table.name, 0) + len(rows)

    async def run(self) -> None:
        from roost.clock import utcnow
        from roost.db.tables import accounts, media_attachments, statuses, tags

        async with self.db.read() as conn:
            base = (
                await conn.execute(
                    select(accounts.c.id, accounts.c.username, accounts.c.created_at).order_by(
                        accounts.c.id
                    )
                )
            ).all()
            self.oldest = min(r.created_at for r in base)
            template = (
                (
                    await conn.execute(
                        select(media_attachments)
                        .where(media_attachments.c.status_id.is_not(None))
                        .limit(1)
                    )
                )
                .mappings()
                .first()
            )
            oldest_post, newest = (
                await conn.execute(
                    select(func.min(statuses.c.created_at), func.max(statuses.c.created_at))
                )
            ).one()
            known_tags = {
                r.name_key: r.id for r in await conn.execute(select(tags.c.id, tags.c.name_key))
            }
            # The seed's own ids: bulk rows placed among the seed's posts
            # (``recent``) are made for the same milliseconds, and one of
            # them once took the id of a seeded post.
            for table in _id_tables():
                self.used.update(int(i) for i in (await conn.execute(select(table.c.id))).scalars())
        self.media_template = dict(template) if template is not None else None
        self.now = utcnow()
        self.newest_seeded = newest or self.now
        self.oldest_seeded = oldest_post or self.now
        self.ids: list[int] = [r.id for r in base]
        self.names: list[str] = [r.username for r in base]
        await self._accounts(max(0, self.size.accounts - len(base)))
        # The popularity rank: the seed's accounts spread among the first
        # places (the measured profile, author000, first), the rest shuffled.
        n = len(self.ids)
        order = list(range(len(base), n))
        self.rng.shuffle(order)
        seeded_order = sorted(range(len(base)), key=lambda i: (self.names[i] != "author000", i))
        for place, index in enumerate(seeded_order):
            order.insert(min(len(order), place * 3), index)
        self.rank = order  # rank -> index into self.ids
        self.follow_weights = _zipf_cumulative(n, 1.0)
        self.post_weights = _zipf_cumulative(n, 0.7)
        self.tag_ids = await self._tags(known_tags)
        self.followers = array("i", [0]) * n
        self.following = array("i", [0]) * n
        await self._follows(len(base))
        await self._posts()
        await self._counters()

    # -- accounts -------------------------------------------------------------

    async def _accounts(self, count: int) -> None:
        from roost.clock import utcnow
        from roost.db.tables import accounts, users
        from roost.domain.accounts import passwords
        from roost.keys import ring

        if not count:
            return
        now = utcnow()
        password_hash = await passwords.hash_password("a grown account's password")
        start = self.oldest - timedelta(days=61)
        moments = sorted(
            start - timedelta(seconds=self.rng.uniform(0, 300 * 86400)) for _ in range(count)
        )
        account_rows, user_rows, key_rows = [], [], []
        stamp = now.isoformat()
        for n, moment in enumerate(moments):
            account_id = self._id(moment)
            name = f"grown{n:06d}"
            key_rows.append((account_id, secrets.token_bytes(32), stamp, None))
            account_rows.append(
                {
                    "id": account_id,
                    "username": name,
                    "username_key": name,
                    "display_name": "",
                    "note": "",
                    "note_html": "",
                    "fields": [],
                    "locked": False,
                    "bot": False,
                    "discoverable": True,
                    "indexable": False,
                    "hide_collections": False,
                    "followers_count": 0,
                    "following_count": 0,
                    "statuses_count": 0,
                    "created_at": moment,
                }
            )
            self.ids.append(account_id)
            self.names.append(name)
        # The keys in one batch (one commit per key would take minutes).
        ring.store().merge(key_rows)
        for row in account_rows:
            email = f"{row['username']}@example.org"
            user_rows.append(
                {
                    "account_id": row["id"],
                    "email": ring.seal(row["id"], email),
                    "email_key": ring.email_index(email),
                    "password_hash": password_hash,
                    "approved": True,
                    "locale": "en",
                    "default_visibility": "public",
                    "default_sensitive": False,
                    "reason": None,
                    "created_at": row["created_at"],
                    "confirmed_at": row["created_at"],
                }
            )
        await self._insert(accounts, account_rows)
        await self._insert(users, user_rows)

    async def _tags(self, known: dict[str, int]) -> list[int]:
        from roost.db.tables import tags

        new = []
        out = []
        for name in TAG_NAMES:
            if name.lower() not in known:
                tag_id = self._id(self.oldest - timedelta(days=61))
                new.append(
                    {
                        "id": tag_id,
                        "name": name,
                        "name_key": name.lower(),
                        "created_at": self.oldest - timedelta(days=61),
                    }
                )
                known[name.lower()] = tag_id
            out.append(known[name.lower()])
        await self._insert(tags, new)
        return out

    def _pick(self, weights: list[float]) -> int:
        """An account index, by the Zipf law ``weights`` over the popularity rank."""
        rank = bisect.bisect(weights, self.rng.random() * weights[-1])
        return self.rank[min(rank, len(self.rank) - 1)]

    # -- the follow graph --------------------------------------------------------

    async def _follows(self, base_count: int) -> None:
        from roost.db.tables import follows, notifications

        window_start = self.oldest - timedelta(days=60)
        span = (self.oldest - window_start).total_seconds()
        pairs: list[tuple[datetime, int, int]] = []
        for follower in range(base_count, len(self.ids)):
            degree = min(int(self.rng.paretovariate(1.6) * 3), 2000)
            targets = {self._pick(self.follow_weights) for _ in range(degree)}
            targets.discard(follower)
            for target in targets:
                moment = window_start + timedelta(seconds=self.rng.uniform(0, span))
                pairs.append((moment, follower, target))
        pairs.sort()
        follow_rows, notification_rows = [], []
        last: dict[int, tuple[datetime, str]] = {}
        for moment, follower, target in pairs:
            follow_id = self._id(moment)
            follow_rows.append(
                {
                    "id": follow_id,
                    "account_id": self.ids[follower],
                    "target_account_id": self.ids[target],
                    "show_reblogs": True,
                    "notify": False,
                    "created_at": moment,
                }
            )
            self.followers[target] += 1
            self.following[follower] += 1
            notification_rows.append(
                self._notification(
                    last, target, follower, "follow", None, f"follow:{follow_id}", moment, "follow"
                )
            )
        await self._insert(follows, follow_rows)
        await self._insert(notifications, notification_rows)

    def _notification(
        self,
        last: dict[Any, tuple[datetime, str]],
        recipient: int,
        sender: int,
        type: str,
        status_id: int | None,
        key: str,
        moment: datetime,
        prefix: str | None,
    ) -> dict[str, Any]:
        """A notification row as ``do_notify`` writes it; ``last`` holds each
        (recipient, group prefix)'s newest notification, in time order, for
        ``group_key_for``'s rule (join a group heard from in the last 12 hours)."""
        from roost.domain.notifications.groups import GROUP_SPAN

        group = None
        if prefix is not None:
            seen = last.get((recipient, prefix))
            if seen is not None and moment - seen[0] < GROUP_SPAN:
                group = seen[1]
            else:
                group = f"{prefix}-{int(moment.timestamp()) // 3600}"
            last[(recipient, prefix)] = (moment, group)
        return {
            "id": self._id(moment),
            "account_id": self.ids[recipient],
            "from_account_id": self.ids[sender],
            "type": type,
            "status_id": status_id,
            "dedupe_key": key,
            "created_at": moment,
            "group_key": group,
            "filtered": False,
        }

    # -- posts -------------------------------------------------------------------

    async def _posts(self) -> None:
        from roost.db.tables import (
            conversation_participants,
            favourites,
            media_attachments,
            mentions,
            notifications,
            status_conversations,
            status_tags,
            statuses,
        )
        from roost.domain.statuses import content
        from roost.domain.statuses.rows import new_status_row
        from roost.domain.types import Visibility

        rng = self.rng
        count = self.size.posts
        window_start = self.oldest - timedelta(days=60)
        span = (self.oldest - timedelta(minutes=1) - window_start).total_seconds()
        # ``recent``: this share of the bulk posts written while the seed's
        # were (others posting between the posts the viewer follows).
        in_seed = int(count * self.recent)
        seed_span = max((self.newest_seeded - self.oldest_seeded).total_seconds(), 1.0)
        moments = sorted(
            [window_start + timedelta(seconds=rng.uniform(0, span)) for _ in range(count - in_seed)]
            + [
                self.newest_seeded - timedelta(seconds=rng.uniform(0, seed_span) + 0.001)
                for _ in range(in_seed)
            ]
        )
        # Plain bodies, rendered once each (as the importer renders).
        pool = []
        for _ in range(4096):
            words = " ".join(rng.choice(routes.WORDS) for _ in range(rng.randint(8, 30)))
            text = f"{words[:1].upper()}{words[1:]}."
            pool.append((text, content.render_without_mentions(text, self.base_url).html))
        author_of = array("i")
        status_ids = array("q")
        replies = array("i")
        reblogs = array("i")
        favs = array("i")
        boostable: list[int] = []  # indexes of public/unlisted originals
        repliable: list[int] = []  # public originals
        boosted: set[tuple[int, int]] = set()
        statuses_of = array("i", [0]) * len(self.ids)
        last_post: dict[int, datetime] = {}
        rows: dict[str, list[dict[str, Any]]] = {"statuses": []}
        last_group: dict[Any, tuple[datetime, str]] = {}
        last_reply = -1
        dependent = (
            ("mentions", mentions),
            ("status_tags", status_tags),
            ("media", media_attachments),
            ("status_conversations", status_conversations),
            ("conversation_participants", conversation_participants),
            ("favourites", favourites),
            ("notifications", notifications),
        )
        later: dict[str, list[tuple[int, dict[str, Any]]]] = {name: [] for name, _ in dependent}
        written = [0]  # posts below this index are in the database

        def hold(name: str, at: int, row: dict[str, Any]) -> None:
            later[name].append((at, row))

        async def flush(final: bool = False) -> None:
            # The posts first, then what names the posts written (foreign
            # keys), in one transaction.
            async with self.db.write() as tx:
                await self._insert(statuses, rows["statuses"], tx)
                rows["statuses"] = []
                for name, table in dependent:
                    ready = [r for at, r in later[name] if final or at < written[0]]
                    later[name] = [
                        (at, r) for at, r in later[name] if not final and at >= written[0]
                    ]
                    await self._insert(table, ready, tx)

        pending: list[int] = []  # indexes whose rows are built, counters still open
        counters_open = 3000  # a post's replies/boosts come from the next posts

        def statuses_row(i: int) -> dict[str, Any]:
            row = pending_rows[i]
            row["replies_count"] = replies[i]
            row["reblogs_count"] = reblogs[i]
            row["favourites_count"] = favs[i]
            return row

        pending_rows: dict[int, dict[str, Any]] = {}

        for i, moment in enumerate(moments):
            author = self._pick(self.post_weights)
            status_id = self._id(moment)
            author_of.append(author)
            status_ids.append(status_id)
            replies.append(0)
            reblogs.append(0)
            favs.append(0)
            statuses_of[author] += 1
            last_post[author] = moment
            roll = rng.random()
            if roll < 0.08 and boostable:
                original = boostable[-1 - min(int(rng.expovariate(1 / 300)), len(boostable) - 1)]
                if (
                    author_of[original] != author
                    and (author, original) not in boosted
                    and i - original < counters_open
                ):
                    boosted.add((author, original))
                    reblogs[original] += 1
                    pending_rows[i] = new_status_row(
                        status_id=status_id,
                        account_id=self.ids[author],
                        visibility=Visibility.PUBLIC,
                        created_at=moment,
                        reblog_of_id=status_ids[original],
                    )
                    pending.append(i)
                    owner = author_of[original]
                    hold(
                        "notifications",
                        i,
                        self._notification(
                            last_group,
                            owner,
                            author,
                            "reblog",
                            status_ids[original],
                            f"reblog:{self.ids[owner]}:{self.ids[author]}:{status_ids[original]}",
                            moment,
                            f"reblog-{status_ids[original]}",
                        ),
                    )
                    continue
            text, html = pool[rng.randrange(len(pool))]
            visibility = rng.choices(
                [Visibility.PUBLIC, Visibility.UNLISTED, Visibility.PRIVATE, Visibility.DIRECT],
                [76, 10, 10, 4],
            )[0]
            mentioned: list[int] = []
            parent = -1
            if visibility == Visibility.DIRECT:
                mentioned = [self._pick(self.follow_weights) for _ in range(rng.randint(1, 2))]
            elif roll < 0.28 and repliable:
                # A reply: most often continuing the newest chain.
                if last_reply >= 0 and rng.random() < 0.5:
                    parent = last_reply
                else:
                    parent = repliable[-1 - min(int(rng.expovariate(1 / 500)), len(repliable) - 1)]
                if i - parent >= counters_open:
                    parent = repliable[-1]
                visibility = Visibility.PUBLIC
                mentioned = [author_of[parent]]
            elif roll < 0.33:
                mentioned = [self._pick(self.follow_weights)]
            mentioned = [m for m in dict.fromkeys(mentioned) if m != author]
            tag = rng.random() < 0.1
            if tag:
                tag_n = min(int(rng.paretovariate(1.0)) - 1, len(TAG_NAMES) - 1)
                text = f"{text} #{TAG_NAMES[tag_n]}"
            if mentioned:
                text = " ".join(f"@{self.names[m]}" for m in mentioned) + " " + text
                local = {self.names[m].lower(): (self.ids[m], self.names[m]) for m in mentioned}
                rendered = content.render(text, local, self.base_url)
                html = rendered.html
            elif tag:
                html = content.render_without_mentions(text, self.base_url).html
            row = new_status_row(
                status_id=status_id,
                account_id=self.ids[author],
                visibility=visibility,
                created_at=moment,
                text=text,
                html=html,
                language="en",
                in_reply_to_id=status_ids[parent] if parent >= 0 else None,
                in_reply_to_account_id=self.ids[author_of[parent]] if parent >= 0 else None,
                application_id=None,
            )
            pending_rows[i] = row
            pending.append(i)
            if parent >= 0:
                replies[parent] += 1
                last_reply = i
            for m in mentioned:
                hold("mentions", i, {"status_id": status_id, "account_id": self.ids[m]})
                hold(
                    "notifications",
                    i,
                    self._notification(
                        last_group,
                        m,
                        author,
                        "mention",
                        status_id,
                        f"mention:{self.ids[m]}:{self.ids[author]}:{status_id}",
                        moment,
                        None,
                    ),
                )
            if tag:
                hold("status_tags", i, {"status_id": status_id, "tag_id": self.tag_ids[tag_n]})
            if visibility == Visibility.DIRECT:
                conversation_id = self._id(moment)
                hold(
                    "status_conversations",
                    i,
                    {"status_id": status_id, "conversation_id": conversation_id},
                )
                for who in [author, *mentioned]:
                    hold(
                        "conversation_participants",
                        i,
                        {
                            "id": self._id(moment),
                            "conversation_id": conversation_id,
                            "account_id": self.ids[who],
                            "last_status_id": status_id,
                            "unread": who != author,
                            "updated_at": moment,
                        },
                    )
            elif self.media_template is not None and rng.random() < 0.05:
                media = dict(self.media_template)
                media.update(
                    id=self._id(moment),
                    account_id=self.ids[author],
                    status_id=status_id,
                    position=0,
                    created_at=moment,
                    expires_at=None,
                )
                hold("media", i, media)
            if visibility in (Visibility.PUBLIC, Visibility.UNLISTED):
                boostable.append(i)
                if visibility == Visibility.PUBLIC:
                    repliable.append(i)
                # Favourites: most posts none, a few very many.
                if rng.random() < 0.2:
                    fans = {
                        rng.randrange(len(self.ids))
                        for _ in range(min(int(rng.paretovariate(1.5)), 300))
                    }
                    fans.discard(author)
                    times = sorted(
                        min(moment + timedelta(seconds=rng.expovariate(1 / 3600)), self.now)
                        for _ in fans
                    )
                    for fan, when in zip(sorted(fans), times, strict=True):
                        favs[i] += 1
                        hold(
                            "favourites",
                            i,
                            {
                                "id": self._id(when),
                                "account_id": self.ids[fan],
                                "status_id": status_id,
                                "created_at": when,
                            },
                        )
                        hold(
                            "notifications",
                            i,
                            self._notification(
                                last_group,
                                author,
                                fan,
                                "favourite",
                                status_id,
                                f"favourite:{self.ids[author]}:{self.ids[fan]}:{status_id}",
                                when,
                                f"favourite-{status_id}",
                            ),
                        )
            # Rows whose counters can no longer change are written.
            if len(pending) >= counters_open + CHUNK:
                done, pending = pending[:CHUNK], pending[CHUNK:]
                rows["statuses"] = [statuses_row(j) for j in done]
                for j in done:
                    del pending_rows[j]
                written[0] = done[-1] + 1
                await flush()
            if len(boostable) > 20_000:
                del boostable[:10_000]
            if len(repliable) > 20_000:
                del repliable[:10_000]
        rows["statuses"] = [statuses_row(j) for j in pending]
        await flush(final=True)
        # Boosts and replies only ever reach back ``counters_open`` posts;
        # anything older that changed would be wrong.
        self.statuses_of = statuses_of
        self.last_post = last_post

    async def _counters(self) -> None:
        from roost.db.tables import accounts

        changes = [
            {
                "b_id": self.ids[i],
                "b_statuses": self.statuses_of[i],
                "b_followers": self.followers[i],
                "b_following": self.following[i],
                "b_last": self.last_post.get(i),
            }
            for i in range(len(self.ids))
            if self.statuses_of[i] or self.followers[i] or self.following[i]
        ]
        last_type = accounts.c.last_status_at.type
        statement = (
            update(accounts)
            .where(accounts.c.id == bindparam("b_id"))
            .values(
                statuses_count=accounts.c.statuses_count + bindparam("b_statuses"),
                followers_count=accounts.c.followers_count + bindparam("b_followers"),
                following_count=accounts.c.following_count + bindparam("b_following"),
                # The seed's posts are newer than the bulk's.
                last_status_at=case(
                    (
                        accounts.c.last_status_at > bindparam("b_last", type_=last_type),
                        accounts.c.last_status_at,
                    ),
                    else_=func.coalesce(
                        bindparam("b_last", type_=last_type), accounts.c.last_status_at
                    ),
                ),
            )
        )
        for at in range(0, len(changes), CHUNK):
            async with self.db.write() as tx:
                await tx.conn.execute(statement, changes[at : at + CHUNK])
