"""The search index on PostgreSQL: ``search_statuses(status_id, document)``,
a tsvector per post under a GIN index.

Documents and queries are written as tsvector and tsquery *literals* built from
roost/search/text.py's words, not passed through a text search configuration,
so PostgreSQL's parser and dictionaries never reinterpret a word and both
engines match exactly the same posts. Reach is the relational ``reach_clause``,
evaluated together with the word match in one statement; given the request's
fast reader, that statement is a prepared read (roost/db/fastread.py), one
per shape of search (signed in or not, one author, bounds, ``has:media``),
with the words, the searcher, the author and the bounds as its parameters.

The row goes with its post by the foreign key's cascade, so a post deleted
without a job (an account's erasure) leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any
from typing import cast as typed

from sqlalchemy import (
    BigInteger,
    Integer,
    Select,
    String,
    bindparam,
    cast,
    column,
    literal,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import TSQUERY

from roost.db.engine import Database, Tx
from roost.db.fastread import FastReader, Prepared
from roost.db.tables import statuses
from roost.search.connect import Connect, connection
from roost.search.documents import documents
from roost.search.query import Phrase, SearchQuery
from roost.search.reach import Scope, id_bounds, narrowing, reach_clause, within_reach
from roost.search.rebuild import Progress, sync_all

search_statuses = table("search_statuses", column("status_id"), column("document"))

_UPSERT = text(
    "INSERT INTO search_statuses (status_id, document) VALUES (:id, CAST(:document AS tsvector))"
    " ON CONFLICT (status_id) DO UPDATE SET document = EXCLUDED.document"
)
_DELETE = text("DELETE FROM search_statuses WHERE status_id IN :ids").bindparams(
    bindparam("ids", expanding=True)
)


def _lexeme(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_literal(words: Sequence[str]) -> str:
    """``'word':1,4 'other':2 ...``: every word at its position (1-based)."""
    positions: dict[str, list[int]] = {}
    for index, word in enumerate(words, start=1):
        positions.setdefault(word, []).append(index)
    return " ".join(
        f"{_lexeme(word)}:{','.join(map(str, where))}" for word, where in positions.items()
    )


def tsquery_literal(query: SearchQuery) -> str:
    def phrase(words: Phrase) -> str:
        return "(" + " <-> ".join(_lexeme(w) for w in words) + ")"

    parts = [phrase(p) for p in query.include]
    parts += [f"!{phrase(p)}" for p in query.exclude]
    return " & ".join(parts)


def _matching(tsquery: Any, where: Any, window: Any) -> Select[Any]:
    matches = search_statuses.c.document.op("@@")(cast(tsquery, TSQUERY))
    return (
        select(statuses.c.id)
        .join(search_statuses, search_statuses.c.status_id == statuses.c.id)
        .where(matches, where)
        .order_by(statuses.c.id.desc())
        .limit(window)
    )


# (nobody signed in, one author, a lower bound, an upper bound, has:media)
_Shape = tuple[bool, bool, bool, bool, bool | None]


def _search_read(shape: _Shape) -> Select[Any]:
    """The search as a prepared read (roost/db/fastread.py): the same
    statement as ``reach_clause``'s, with the query, the searcher, the author
    and the bounds as parameters."""
    anyone, by_author, has_low, has_high, media = shape

    def param(name: str) -> int:
        return typed(int, bindparam(name, type_=BigInteger()))

    scope = Scope(
        searcher=None if anyone else param("searcher"),
        author_id=param("author") if by_author else None,
    )
    narrowed = narrowing(
        scope, param("low") if has_low else None, param("high") if has_high else None, media
    )
    return _matching(
        bindparam("tsquery", type_=String()),
        within_reach(scope, narrowed),
        bindparam("window", type_=Integer()),
    )


_SEARCHES: dict[_Shape, Prepared] = {}


async def _search_prepared(
    reader: FastReader, scope: Scope, query: SearchQuery, window: int
) -> list[int]:
    low, high = id_bounds(query)
    shape: _Shape = (
        scope.searcher is None,
        scope.author_id is not None,
        low is not None,
        high is not None,
        query.has_media,
    )
    prepared = _SEARCHES.get(shape)
    if prepared is None:
        prepared = _SEARCHES[shape] = Prepared(partial(_search_read, shape))
    values: dict[str, Any] = {"tsquery": tsquery_literal(query), "window": window}
    for name, value in (
        ("searcher", scope.searcher),
        ("author", scope.author_id),
        ("low", low),
        ("high", high),
    ):
        if value is not None:
            values[name] = value
    return [int(r[0]) for r in await reader.all(prepared, raw=True, **values)]


class PostgresIndex:
    async def sync(self, tx: Tx, status_ids: list[int]) -> None:
        if not status_ids:
            return
        docs = await documents(tx.conn, status_ids)
        gone = [i for i in status_ids if i not in docs]
        if gone:
            await tx.execute(_DELETE, {"ids": gone})
        if docs:
            await tx.execute(
                _UPSERT,
                [{"id": d.status_id, "document": tsvector_literal(d.words)} for d in docs.values()],
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
        if reader is not None:
            return await _search_prepared(reader, scope, query, window)
        rows = await (await connection(conn)).execute(
            _matching(literal(tsquery_literal(query)), reach_clause(scope, query), window)
        )
        return [int(r.id) for r in rows]

    async def rebuild(self, db: Database, progress: Progress | None = None) -> int:
        return await sync_all(db, self, progress)
