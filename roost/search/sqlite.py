"""The search index on SQLite: an FTS5 table, ``search_statuses``.

Each row's rowid is the post's id; ``body`` holds its words (roost/search/text.py)
and ``meta`` a few tokens that let FTS5 itself narrow a search to the searcher's
reach: ``a<id>`` for the author, ``pub`` for a public post of an indexable
account, ``m`` for a post with media. Reach is answered in two parts:

  1. own posts and public-indexable posts: one FTS5 query, newest first, that
     stops after ``window`` hits however common the words are;
  2. posts the searcher interacted with: FTS5 lists the newest few hundred
     matches in range and each is asked whether the searcher interacted
     with it (by key); when those are all the matches, or hold a window of
     interactions, that is the answer; else the interactions below them are
     read newest first a page at a time (``_Walk``) and their words matched
     here, until ``window``. Neither reads the searcher's whole history.

The first part's candidates are checked against ``own_or_findable`` (that part
of reach_clause, the one statement of reach) as the database stands now, so a
``pub`` token left stale by a changed setting can hide a post for a moment but
never show one out of reach. The second part's candidates are within reach by
how they were found, and narrowed by the operators with ``narrowed_by``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any, cast

from sqlalchemy import BigInteger, bindparam, column, select, table, text
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.engine import Database, Tx
from roost.db.fastread import FastReader, IdList, Prepared, Row, id_list
from roost.db.tables import statuses
from roost.search.connect import Connect, connection
from roost.search.documents import Document, documents
from roost.search.query import Phrase, SearchQuery
from roost.search.reach import (
    MAX_ID,
    Scope,
    id_bounds,
    interacted_among,
    narrowed_by,
    own_or_findable,
)
from roost.search.rebuild import Progress, sync_all
from roost.search.text import contains_phrase

# Interactions whose words are read per statement.
BATCH = 2000
# Up to this many matches in the interactions' range, FTS5's list of them is
# intersected with the interactions; past it (common words), the interactions'
# own words are read instead, and common words match among the first few.
# With the one more listed to tell "more", 256 ids: on SQLite a list of ids is
# padded to a power of two (roost/db/fastread.py), and 257 made each of the
# five interaction lists 512 long.
_FEW_MATCHES = 255

_DELETE = text("DELETE FROM search_statuses WHERE rowid IN :ids").bindparams(
    bindparam("ids", expanding=True)
)
_INSERT = text("INSERT INTO search_statuses (rowid, body, meta) VALUES (:id, :body, :meta)")
_BODIES = text("SELECT rowid AS id, body FROM search_statuses WHERE rowid IN :ids").bindparams(
    bindparam("ids", expanding=True)
)


# The same reads as prepared statements (roost/db/fastread.py), for a search
# given the request's fast reader: compiled once, run without SQLAlchemy's
# per-statement machinery.
_TEXTS: dict[str, Prepared] = {}
_SEARCHER = cast(int, bindparam("searcher", type_=BigInteger()))
_CHECKED = {
    anyone: Prepared(
        partial(
            lambda anyone: select(statuses.c.id).where(
                id_list(statuses.c.id, "ids"),
                own_or_findable(Scope(searcher=None if anyone else _SEARCHER)),
            ),
            anyone,
        )
    )
    for anyone in (True, False)
}
_AMONG = Prepared(lambda: interacted_among(_SEARCHER, lambda c: id_list(c, "ids")))
_INDEX = table("search_statuses", column("rowid"), column("body"))
# A page of the searcher's interactions, newest first (``_Walk``): the posts
# favourited, bookmarked, mentioned in and boosted, each from its index by
# (account, post), below ``below``; and the posts replied to, from the
# searcher's own posts newest first below ``own`` (a reply is newer than its
# post, so these reach down as far as the replies read do). Unary ``+`` keeps
# SQLite on the (account, id) order instead of a range of every reply.
_WALK = " UNION ALL ".join(
    [
        f"SELECT id, {kind} AS kind, NULL AS own FROM (SELECT {column} AS id FROM {source}"
        f" WHERE account_id = :searcher{extra} AND {column} >= :low AND {column} < :below"
        f" ORDER BY {column} DESC LIMIT :size)"
        for kind, (source, column, extra) in enumerate(
            [
                ("favourites", "status_id", ""),
                ("bookmarks", "status_id", ""),
                ("mentions", "status_id", ""),
                ("statuses", "reblog_of_id", " AND reblog_of_id IS NOT NULL"),
            ]
        )
    ]
    + [
        "SELECT target, 4 AS kind, own FROM (SELECT r.in_reply_to_id AS target, r.id AS own"
        " FROM statuses AS r WHERE r.account_id = :searcher AND r.id < :own AND r.id > :low"
        " AND +r.in_reply_to_id IS NOT NULL AND +r.in_reply_to_id >= :low"
        " AND +r.in_reply_to_id < :high ORDER BY r.id DESC LIMIT :size)"
    ]
)
_BODIES_READ = Prepared(
    lambda: select(_INDEX.c.rowid, _INDEX.c.body).where(id_list(_INDEX.c.rowid, "ids"))
)


class _Walk:
    """The searcher's interactions within ``[low, high)``, newest first, a
    page at a time; each page holds every interaction in its range, so the
    pages together are the whole in order."""

    def __init__(self, searcher: int, low: int, high: int, *, below: int) -> None:
        self.searcher, self.low, self.high = searcher, low, high
        self.below = below  # every interaction at or above it is handed out
        self.own = MAX_ID  # the searcher's replies at or above it are read
        self.replied: set[int] = set()  # posts replied to, not yet handed out
        self.done = below <= low

    async def page(self, reads: _Reads, size: int) -> list[int]:
        params = {
            "searcher": self.searcher,
            "low": self.low,
            "high": self.high,
            "below": self.below,
            "own": self.own,
            "size": size,
        }
        rows = await reads.text(_WALK, params)
        kinds: list[list[int]] = [[], [], [], []]
        owns: list[int] = []
        for found, kind, own in rows:
            if kind == 4:
                self.replied.add(int(found))
                owns.append(int(own))
            else:
                kinds[kind].append(int(found))
        # The page reaches down to where every source is complete: the lowest
        # of a full batch, or the bottom of the range for a source exhausted.
        floor = self.low
        for ids in kinds:
            if len(ids) >= size:
                floor = max(floor, min(ids))
        if len(owns) >= size:
            self.own = min(owns)
            # Every reply at or above it is read: so is every post replied
            # to at or above it, those being older than their replies.
            floor = max(floor, self.own)
        else:
            self.own = self.low
        if floor >= self.below:
            # Only the replies walked on, above the range left (or none is).
            self.done = self.below <= self.low
            return []
        page = {i for ids in kinds for i in ids if i >= floor}
        page |= {i for i in self.replied if i >= floor}
        self.replied = {i for i in self.replied if i < floor}
        self.below = floor
        self.done = floor <= self.low
        return sorted(page, reverse=True)


async def _narrowed(reads: _Reads, scope: Scope, query: SearchQuery, ids: list[int]) -> list[int]:
    """``ids`` that the operators (and ``account_id``) allow, in order."""
    if not ids or (scope.author_id is None and query.has_media is None):
        return ids
    kept = await reads.narrowed(scope, query, ids)
    return [i for i in ids if i in kept]


class _Reads:
    """The index's reads through ``conn``, or prepared through ``reader``."""

    def __init__(self, conn: Connect, reader: FastReader | None) -> None:
        self._conn = conn
        self.reader = reader

    async def conn(self) -> AsyncConnection:
        return await connection(self._conn)

    async def text(self, sql: str, params: dict[str, Any]) -> list[Row]:
        if self.reader is None:
            return [tuple(r) for r in await (await self.conn()).execute(text(sql), params)]
        prepared = _TEXTS.get(sql)
        if prepared is None:
            prepared = _TEXTS[sql] = Prepared(partial(text, sql))
        return await self.reader.all(prepared, raw=True, **params)

    async def checked(self, scope: Scope, candidates: list[int]) -> set[int]:
        if self.reader is None:
            rows = await (await self.conn()).execute(
                select(statuses.c.id).where(statuses.c.id.in_(candidates), own_or_findable(scope))
            )
            return {int(r.id) for r in rows}
        values: dict[str, Any] = {"ids": IdList(candidates)}
        if scope.searcher is not None:
            values["searcher"] = scope.searcher
        found = await self.reader.all(_CHECKED[scope.searcher is None], raw=True, **values)
        return {int(r[0]) for r in found}

    async def interacted_among(self, searcher: int, ids: list[int]) -> set[int]:
        if self.reader is None:
            rows = await (await self.conn()).execute(
                interacted_among(searcher, lambda c: c.in_(ids))
            )
            return {int(r[0]) for r in rows}
        found = await self.reader.all(_AMONG, raw=True, searcher=searcher, ids=IdList(ids))
        return {int(r[0]) for r in found}

    async def narrowed(self, scope: Scope, query: SearchQuery, ids: list[int]) -> set[int]:
        kept: set[int] = set()
        for start in range(0, len(ids), BATCH):
            rows = await (await self.conn()).execute(
                select(statuses.c.id).where(
                    statuses.c.id.in_(ids[start : start + BATCH]), narrowed_by(scope, query)
                )
            )
            kept |= {int(r.id) for r in rows}
        return kept

    async def bodies(self, ids: list[int]) -> dict[int, str]:
        if self.reader is None:
            return {
                int(r.id): r.body for r in await (await self.conn()).execute(_BODIES, {"ids": ids})
            }
        rows = await self.reader.all(_BODIES_READ, raw=True, ids=IdList(ids))
        return {int(r[0]): r[1] for r in rows}


def _quoted(words: Sequence[str]) -> str:
    return '"' + " ".join(words).replace('"', '""') + '"'


def meta_tokens(doc: Document) -> str:
    tokens = [f"a{doc.account_id}"]
    if doc.public_indexable:
        tokens.append("pub")
    if doc.has_media:
        tokens.append("m")
    return " ".join(tokens)


def match_expression(query: SearchQuery, meta: list[str]) -> str:
    """The FTS5 MATCH string: every phrase quoted, so nothing typed can be
    read as FTS5 syntax. ``meta`` are conditions on the meta column, ANDed."""
    expression = "body : (" + " AND ".join(_quoted(p) for p in query.include) + ")"
    if meta:
        expression = f"({expression}) AND meta : ({' AND '.join(meta)})"
    if query.exclude:
        expression += " NOT body : (" + " OR ".join(_quoted(p) for p in query.exclude) + ")"
    if query.has_media is False:
        expression = f'({expression}) NOT meta : "m"'
    return expression


def words_match(body: str, query: SearchQuery) -> bool:
    """The same test as ``match_expression``'s body part, on one post's words."""
    document = body.split()

    def has(phrase: Phrase) -> bool:
        return contains_phrase(document, phrase)

    return all(has(p) for p in query.include) and not any(has(p) for p in query.exclude)


class SqliteFtsIndex:
    async def sync(self, tx: Tx, status_ids: list[int]) -> None:
        if not status_ids:
            return
        docs = await documents(tx.conn, status_ids)
        await tx.execute(_DELETE, {"ids": list(status_ids)})
        if docs:
            await tx.execute(
                _INSERT,
                [
                    {"id": d.status_id, "body": " ".join(d.words), "meta": meta_tokens(d)}
                    for d in docs.values()
                ],
            )

    async def search(
        self,
        conn: Connect,
        scope: Scope,
        query: SearchQuery,
        *,
        window: int,
        reader: FastReader | None = None,
    ) -> list[int]:
        if not query.searchable or window <= 0:
            return []
        reads = _Reads(conn, reader)
        found: set[int] = set()
        candidates = await self._own_and_public(reads, scope, query, window)
        if candidates:
            # The tokens say where a post was findable when it was indexed;
            # whether its author still lets strangers find it is checked now.
            found |= await reads.checked(scope, candidates)
        if scope.searcher is not None and scope.author_id != scope.searcher:
            found |= set(await self._interactions(reads, scope, query, window))
        return sorted(found, reverse=True)[:window]

    async def _own_and_public(
        self, reads: _Reads, scope: Scope, query: SearchQuery, window: int
    ) -> list[int]:
        me = scope.searcher
        if scope.author_id is not None and scope.author_id != me:
            meta = ["pub", f'"a{scope.author_id}"']
        elif scope.author_id is not None:
            meta = [f'"a{me}"']
        else:
            meta = ["pub" if me is None else f'(pub OR "a{me}")']
        if query.has_media is True:
            meta.append('"m"')
        sql = "SELECT rowid FROM search_statuses WHERE search_statuses MATCH :match"
        params: dict[str, Any] = {"match": match_expression(query, meta), "window": window}
        low, high = id_bounds(query)
        if low is not None:
            sql += " AND rowid >= :low"
            params["low"] = low
        if high is not None:
            sql += " AND rowid < :high"
            params["high"] = high
        sql += " ORDER BY rowid DESC LIMIT :window"
        return [int(r[0]) for r in await reads.text(sql, params)]

    async def _interactions(
        self, reads: _Reads, scope: Scope, query: SearchQuery, window: int
    ) -> list[int]:
        """Matches among the posts the searcher interacted with (within reach
        by definition), newest first. The work is bounded by the window, not
        by how many posts the searcher ever interacted with."""
        assert scope.searcher is not None
        low, high = id_bounds(query)
        low, high = low or 0, MAX_ID if high is None else high
        if low >= high:
            return []
        # The newest matches in range (all of them, if they are few).
        sql = (
            "SELECT rowid FROM search_statuses WHERE search_statuses MATCH :match"
            " AND rowid >= :low AND rowid < :high ORDER BY rowid DESC LIMIT :cap"
        )
        params = {
            "match": match_expression(query, []),
            "low": low,
            "high": high,
            "cap": _FEW_MATCHES + 1,
        }
        hits = [int(r[0]) for r in await reads.text(sql, params)]
        if not hits:
            return []
        # Those of the matches listed that the searcher interacted with: every
        # one in range if they are all there, else every one from the lowest
        # listed up, and often a window of them already (the interactions of
        # an active searcher are many among the newest posts).
        among = await reads.interacted_among(scope.searcher, hits)
        found = await _narrowed(reads, scope, query, [i for i in hits if i in among])
        if len(hits) <= _FEW_MATCHES or len(found) >= window:
            return found[:window]
        # Common words, few of the newest matches interacted with: the
        # interactions below them newest first, a page at a time (a few at
        # first, then more each round), their words read and matched here,
        # until the window is full.
        walk = _Walk(scope.searcher, low, high, below=hits[-1])
        size = min(2 * window, BATCH)
        while len(found) < window and not walk.done:
            page = await _narrowed(reads, scope, query, await walk.page(reads, size))
            if page:
                bodies = await reads.bodies(page)
                found += [i for i in page if i in bodies and words_match(bodies[i], query)]
            size = min(size * 4, BATCH)
        return found[:window]

    async def rebuild(self, db: Database, progress: Progress | None = None) -> int:
        done = await sync_all(db, self, progress)
        async with db.write() as tx:
            # Rows of posts deleted without a job (an account's erasure), then
            # a merge, so deleted words do not linger in old index segments.
            await tx.execute(
                text(
                    "DELETE FROM search_statuses WHERE rowid NOT IN"
                    " (SELECT id FROM statuses WHERE reblog_of_id IS NULL)"
                )
            )
            await tx.execute(
                text("INSERT INTO search_statuses (search_statuses) VALUES ('optimize')")
            )
        return done
