"""The search index on SQLite: an FTS5 table, ``search_statuses``.

Each row's rowid is the post's id; ``body`` holds its words (roost/search/text.py)
and ``meta`` a few tokens that let FTS5 itself narrow a search to the searcher's
reach: ``a<id>`` for the author, ``pub`` for a public post of an indexable
account, ``m`` for a post with media. Reach is answered in two parts:

  1. own posts and public-indexable posts: one FTS5 query, newest first, that
     stops after ``window`` hits however common the words are;
  2. posts the searcher interacted with: their ids come from the relational
     tables; FTS5 lists the matches in their range when there are few, or
     their words are read and matched here, newest first, until ``window``.

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
from roost.search.documents import Document, documents
from roost.search.query import Phrase, SearchQuery
from roost.search.reach import Scope, id_bounds, interacted_ids, narrowed_by, own_or_findable
from roost.search.rebuild import Progress, sync_all
from roost.search.text import contains_phrase

# Interactions whose words are read per statement.
BATCH = 2000
# Up to this many matches in the interactions' range, FTS5's list of them is
# intersected with the interactions; past it (common words), the interactions'
# own words are read instead, and common words match among the first few.
_FEW_MATCHES = 256

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
_INTERACTED = Prepared(lambda: interacted_ids(_SEARCHER))
_INDEX = table("search_statuses", column("rowid"), column("body"))
_BODIES_READ = Prepared(
    lambda: select(_INDEX.c.rowid, _INDEX.c.body).where(id_list(_INDEX.c.rowid, "ids"))
)


class _Reads:
    """The index's reads through ``conn``, or prepared through ``reader``."""

    def __init__(self, conn: AsyncConnection, reader: FastReader | None) -> None:
        self.conn = conn
        self.reader = reader

    async def text(self, sql: str, params: dict[str, Any]) -> list[Row]:
        if self.reader is None:
            return [tuple(r) for r in await self.conn.execute(text(sql), params)]
        prepared = _TEXTS.get(sql)
        if prepared is None:
            prepared = _TEXTS[sql] = Prepared(partial(text, sql))
        return await self.reader.all(prepared, raw=True, **params)

    async def checked(self, scope: Scope, candidates: list[int]) -> set[int]:
        if self.reader is None:
            rows = await self.conn.execute(
                select(statuses.c.id).where(statuses.c.id.in_(candidates), own_or_findable(scope))
            )
            return {int(r.id) for r in rows}
        values: dict[str, Any] = {"ids": IdList(candidates)}
        if scope.searcher is not None:
            values["searcher"] = scope.searcher
        found = await self.reader.all(_CHECKED[scope.searcher is None], raw=True, **values)
        return {int(r[0]) for r in found}

    async def interacted(self, searcher: int) -> list[Row]:
        if self.reader is None:
            return [tuple(r) for r in await self.conn.execute(interacted_ids(searcher))]
        return await self.reader.all(_INTERACTED, raw=True, searcher=searcher)

    async def bodies(self, ids: list[int]) -> dict[int, str]:
        if self.reader is None:
            return {int(r.id): r.body for r in await self.conn.execute(_BODIES, {"ids": ids})}
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
        conn: AsyncConnection,
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
        by definition), newest first."""
        assert scope.searcher is not None
        rows = await reads.interacted(scope.searcher)
        ids = sorted({int(r[0]) for r in rows if r[0] is not None}, reverse=True)
        low, high = id_bounds(query)
        ids = [i for i in ids if (low is None or i >= low) and (high is None or i < high)]
        if ids and (scope.author_id is not None or query.has_media is not None):
            kept: set[int] = set()
            for start in range(0, len(ids), BATCH):
                narrowed = await reads.conn.execute(
                    select(statuses.c.id).where(
                        statuses.c.id.in_(ids[start : start + BATCH]), narrowed_by(scope, query)
                    )
                )
                kept |= {int(r.id) for r in narrowed}
            ids = [i for i in ids if i in kept]
        if not ids:
            return []
        # Every match in the interactions' range, if there are few (rare words):
        # then the answer is their intersection.
        sql = (
            "SELECT rowid FROM search_statuses WHERE search_statuses MATCH :match"
            " AND rowid >= :low AND rowid <= :high ORDER BY rowid DESC LIMIT :cap"
        )
        params = {
            "match": match_expression(query, []),
            "low": ids[-1],
            "high": ids[0],
            "cap": _FEW_MATCHES + 1,
        }
        hits = {int(r[0]) for r in await reads.text(sql, params)}
        if len(hits) <= _FEW_MATCHES:
            return [i for i in ids if i in hits][:window]
        # Read the interactions' own words, newest first, until enough match:
        # a few at first (common words match at once), then more each round.
        found: list[int] = []
        start, size = 0, 2 * window
        while start < len(ids) and len(found) < window:
            chunk = ids[start : start + size]
            bodies = await reads.bodies(chunk)
            found += [i for i in chunk if i in bodies and words_match(bodies[i], query)]
            start, size = start + size, min(size * 4, BATCH)
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
