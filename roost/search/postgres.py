"""The search index on PostgreSQL: ``search_statuses(status_id, document)``,
a tsvector per post under a GIN index.

Documents and queries are written as tsvector and tsquery *literals* built from
roost/search/text.py's words, not passed through a text search configuration,
so PostgreSQL's parser and dictionaries never reinterpret a word and both
engines match exactly the same posts. Reach is the relational ``reach_clause``,
evaluated together with the word match in one statement.

The row goes with its post by the foreign key's cascade, so a post deleted
without a job (an account's erasure) leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, cast, column, literal, select, table, text
from sqlalchemy.dialects.postgresql import TSQUERY

from roost.db.engine import Database, Tx
from roost.db.fastread import FastReader
from roost.db.tables import statuses
from roost.search.connect import Connect, connection
from roost.search.documents import documents
from roost.search.query import Phrase, SearchQuery
from roost.search.reach import Scope, reach_clause
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
        matches = search_statuses.c.document.op("@@")(
            cast(literal(tsquery_literal(query)), TSQUERY)
        )
        rows = await (await connection(conn)).execute(
            select(statuses.c.id)
            .join(search_statuses, search_statuses.c.status_id == statuses.c.id)
            .where(matches, reach_clause(scope, query))
            .order_by(statuses.c.id.desc())
            .limit(window)
        )
        return [int(r.id) for r in rows]

    async def rebuild(self, db: Database, progress: Progress | None = None) -> int:
        return await sync_all(db, self, progress)
