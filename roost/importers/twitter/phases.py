"""The second pass: the archive's contents written, kind by kind.

Posts, then the threads and links they left waiting, then likes, the
follower/following/block/mute lists, direct messages (when asked) and the
profile. Each batch commits with the run's progress and report, and the run
remembers how many entries of each kind it has worked through, so an import
stopped anywhere picks up at the next batch, and the tweet records make any
entry worked through twice a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Generator, Iterator
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from roost.config import Settings
from roost.db.engine import Database, Tx
from roost.domain.types import Visibility
from roost.importers.twitter import links, mapping, records, store
from roost.importers.twitter.archive import Archive
from roost.importers.twitter.layout import RELATION_KINDS, Layout
from roost.importers.twitter.media import MediaImporter
from roost.importers.twitter.profile import import_profile
from roost.importers.twitter.report import Report
from roost.importers.twitter.runs import ImportRun, do_update_run
from roost.importers.twitter.scan import Scan, elements, messages
from roost.importers.twitter.tweets import (
    MalformedTweet,
    Tweet,
    identify,
    moment_of,
    snowflake_time,
    tweet_from_json,
)

T = TypeVar("T")
POST_BATCH = 1000
RECORD_BATCH = 1000
# follower.js -> "followers" in the report, and so on.
REPORT_KIND = {
    "follower": "followers",
    "following": "following",
    "block": "blocks",
    "mute": "mutes",
}

Progress = Callable[[str, int, int], None]


def _take(iterator: Iterator[T], size: int) -> list[T]:
    chunk: list[T] = []
    for item in iterator:
        chunk.append(item)
        if len(chunk) == size:
            break
    return chunk


class _Chunks(Generic[T]):
    """Read the archive in a thread, a chunk at a time, so a server importing
    in the background keeps answering while the files are read. ``close``
    closes the archive file being read, wherever the reading stopped."""

    def __init__(self, source: Generator[T, None, None], size: int) -> None:
        self._source = source
        self._size = size

    def __aiter__(self) -> _Chunks[T]:
        return self

    async def __anext__(self) -> list[T]:
        chunk = await asyncio.to_thread(_take, self._source, self._size)
        if not chunk:
            raise StopAsyncIteration
        return chunk

    def close(self) -> None:
        self._source.close()


@dataclass
class Importer:
    db: Database
    settings: Settings
    archive: Archive
    layout: Layout
    scan: Scan
    run: ImportRun
    username: str
    report: Report
    media: MediaImporter
    on_progress: Progress | None = None

    def __post_init__(self) -> None:
        self.positions = dict(self.run.positions)
        self.total = sum(self.scan.totals.values())

    async def _save(self, tx: Tx, phase: str) -> None:
        done = sum(self.positions.values())
        await do_update_run(
            tx,
            self.run.id,
            progress={
                "phase": phase,
                "done": done,
                "total": self.total,
                "positions": self.positions,
            },
            report=self.report.to_json(),
        )
        if self.on_progress is not None:
            self.on_progress(phase, done, self.total)

    async def run_all(self) -> None:
        await self.posts()
        await self.threads()
        await self.likes()
        await self.relations()
        await self.direct_messages()
        await import_profile(self.db, self.run.account_id, self.scan, self.media, self.report)
        for name in self.layout.missing:
            self.report.note(f"The manifest names {name}, which the archive lacks")

    # --- posts -------------------------------------------------------------

    def _tweets(self) -> Generator[tuple[Any, bool], None, None]:
        for kind in ("tweets", "circle"):
            for name in self.layout.of(kind):
                for element in elements(self.archive, name):
                    yield element, kind == "circle"

    def _is_own(self, screen_name: str | None, tweet_id: int) -> bool:
        owner = self.scan.owner.screen_name
        if tweet_id in self.scan.own_ids:
            return True
        return bool(screen_name and owner and screen_name.lower() == owner.lower())

    async def posts(self) -> None:
        start = self.positions.get("posts", 0)
        position = 0
        with contextlib.closing(_Chunks(self._tweets(), POST_BATCH)) as chunks:
            async for chunk in chunks:
                await self._posts_chunk(chunk, start, position)
                position += len(chunk)

    async def _posts_chunk(self, chunk: list[tuple[Any, bool]], start: int, before: int) -> None:
        """One chunk of tweets; those up to ``start`` were done before a resume.

        Tweets imported before are recognised by their ids alone, before the
        work of reading them whole: importing an archive again is quick.
        """
        if before + len(chunk) <= start:
            return
        entries = chunk[max(0, start - before) :]
        found = [identify(element) for element, _circle in entries]
        async with self.db.read() as conn:
            existing = await store.imported_posts(
                conn, self.run.account_id, [i for f in found if f is not None for i in f[1]]
            )
        wanted: list[tuple[Tweet, bool]] = []
        for (element, from_circle), ident in zip(entries, found, strict=True):
            if ident is not None and from_circle and ident[0] in self.scan.circle_in_tweets:
                continue  # the same tweet, already met in tweets.js
            if ident is not None and ident[0] in existing:
                self.report.skip("posts", "already imported")
                continue
            picked = self._pick(element, from_circle)
            if picked is not None:
                wanted.append(picked)
        await self._write_posts(wanted, existing, before + len(chunk))

    def _pick(self, element: Any, from_circle: bool) -> tuple[Tweet, bool] | None:
        try:
            tweet = tweet_from_json(element)
        except MalformedTweet:
            self.report.add("posts", "failed")
            return None
        group = tweet.edit_group
        if group is not None and self.scan.newest_version.get(group) != tweet.id:
            self.report.skip("posts", "earlier version of an edited tweet")
            return None
        if tweet.is_retweet and self.run.options.skip_retweets:
            self.report.skip("posts", "retweet (--skip-retweets)")
            return None
        return tweet, from_circle or tweet.id in self.scan.circle_ids

    def _new_post(self, tweet: Tweet, circle: bool) -> store.NewPost:
        owner = self.scan.owner
        self_reply = tweet.in_reply_to_id is not None and (
            owner.is_self(tweet.in_reply_to_screen_name, tweet.in_reply_to_user_id)
            or tweet.in_reply_to_id in self.scan.own_ids
        )
        long = self.scan.notes.take(tweet) if not tweet.is_retweet else None
        if long is not None:
            self.report.tally("long posts completed from note-tweet.js")
        text = mapping.post_text(tweet, self_reply=self_reply, long=long)
        moment = moment_of(tweet)
        if tweet.edit_group is not None:
            moment = snowflake_time(tweet.edit_group) or moment
        links = tuple(
            dict.fromkeys(
                tid
                for name, tid in mapping.status_links(text)
                if tid != tweet.id and self._is_own(name, tid)
            )
        )
        return store.NewPost(
            tweet_id=tweet.id,
            # Versions this archive holds; one it lacks may come with a later
            # archive, as a newer version of this post.
            other_ids=tuple(i for i in tweet.edit_ids if i != tweet.id and i in self.scan.own_ids),
            moment=moment,
            text=text,
            visibility=Visibility.PRIVATE if circle else self.run.options.visibility,
            language=tweet.lang,
            sensitive=tweet.sensitive,
            parent_tweet_id=tweet.in_reply_to_id if self_reply else None,
            linked_tweet_ids=links,
        )

    async def _write_posts(
        self, wanted: list[tuple[Tweet, bool]], existing: dict[int, int], position: int
    ) -> None:
        account_id = self.run.account_id
        fresh: list[store.NewPost] = []
        newer: list[tuple[int, store.NewPost]] = []
        media_ids: dict[int, list[int]] = {}
        seen: set[int] = set()
        for tweet, circle in wanted:
            if tweet.id in existing or tweet.id in seen:
                self.report.skip("posts", "already imported")
                continue
            seen.update(tweet.edit_ids)
            post = self._new_post(tweet, circle)
            earlier = next((existing[i] for i in tweet.edit_ids if i in existing), None)
            if earlier is not None:
                newer.append((earlier, post))
                continue
            if tweet.media:
                media_ids[tweet.id] = await self.media.upload(tweet)
            if not post.text and not media_ids.get(tweet.id):
                post = replace(post, text=mapping.permalink(tweet.id))
            fresh.append(post)
        async with self.db.write() as tx:
            inserted = await store.do_insert_posts(
                tx, account_id, fresh, base_url=self.settings.base_url, username=self.username
            )
            for tweet_id, ids in media_ids.items():
                await self.media.attach(tx, inserted.status_ids[tweet_id], ids)
            for status_id, post in newer:
                await store.do_take_newer_version(
                    tx,
                    account_id,
                    status_id,
                    post,
                    base_url=self.settings.base_url,
                    username=self.username,
                )
                self.report.skip("posts", "already imported (now at its newest version)")
            self.report.add("posts", "imported", len(fresh))
            self.report.tally("replies threaded", inserted.threaded)
            self.positions["posts"] = position
            await self._save(tx, "posts")

    # --- threads and links left waiting ------------------------------------

    async def threads(self) -> None:
        while True:
            async with self.db.write() as tx:
                joined = await links.do_link_replies(tx, self.run.account_id)
                self.report.tally("replies threaded", joined)
                await self._save(tx, "threads")
            if joined < store.LINK_BATCH:
                break
        after: int | None = -1
        while after is not None:
            async with self.db.write() as tx:
                changed, after = await links.do_relink(
                    tx,
                    self.run.account_id,
                    base_url=self.settings.base_url,
                    username=self.username,
                    is_own=self._is_own,
                    after=after,
                )
                self.report.tally("links pointed to imported posts", changed)
                await self._save(tx, "threads")
        async with self.db.read() as conn:
            parents, _links = await links.waiting_counts(conn, self.run.account_id)
        self.report.details["replies waiting for an earlier post not imported"] = parents

    # --- likes, lists, messages --------------------------------------------

    async def _records(
        self,
        phase: str,
        kind: str,
        source: Generator[Any, None, None],
        write: Callable[[Tx, list[Any]], Awaitable[int]],
        parse: Callable[[Any], Any],
    ) -> None:
        start = self.positions.get(phase, 0)
        position = 0
        with contextlib.closing(_Chunks(source, RECORD_BATCH)) as chunks:
            async for chunk in chunks:
                before, position = position, position + len(chunk)
                if position <= start:
                    continue
                rows: list[Any] = []
                for item in chunk[max(0, start - before) :]:
                    row = parse(item)
                    if row is None:
                        self.report.add(kind, "failed")
                    else:
                        rows.append(row)
                async with self.db.write() as tx:
                    added = await write(tx, rows)
                    self.report.add(kind, "imported", added)
                    self.report.skip(kind, "already imported", len(rows) - added)
                    self.positions[phase] = position
                    await self._save(tx, phase)

    # The sources are generators that hold only the file being read, so
    # closing one closes that file, wherever the reading stopped.

    def _entries(self, kind: str) -> Generator[Any, None, None]:
        for name in self.layout.of(kind):
            yield from elements(self.archive, name)

    def _messages(self) -> Generator[tuple[str, Any], None, None]:
        for name in self.layout.of("dms"):
            for item in messages(self.archive, name):
                if records.is_message(item[1]):
                    yield item

    async def likes(self) -> None:
        account_id = self.run.account_id
        await self._records(
            "likes",
            "likes",
            self._entries("likes"),
            lambda tx, rows: records.do_add_likes(tx, account_id, rows),
            records.like_from_json,
        )

    async def relations(self) -> None:
        account_id = self.run.account_id

        def writer(kind: str) -> Callable[[Tx, list[Any]], Awaitable[int]]:
            async def write(tx: Tx, rows: list[Any]) -> int:
                return await records.do_add_relations(tx, account_id, kind, rows)

            return write

        for kind in RELATION_KINDS:
            await self._records(
                kind,
                REPORT_KIND[kind],
                self._entries(kind),
                writer(kind),
                records.relation_from_json,
            )

    async def direct_messages(self) -> None:
        if not self.layout.of("dms"):
            return
        if not self.run.options.include_dms:
            self.report.note(
                "Direct messages were left out; import again with --include-dms to keep "
                "them, readable by you alone"
            )
            return
        account_id = self.run.account_id
        await self._records(
            "dms",
            "direct_messages",
            self._messages(),
            lambda tx, rows: records.do_add_messages(tx, account_id, rows),
            lambda item: records.message_from_json(*item),
        )
