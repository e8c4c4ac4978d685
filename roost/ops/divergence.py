"""``roost check replicas``: two copies of the data that should be the same.

Threat 52: a streaming replica, or a restored backup, that silently disagrees
with the primary. Every table is cut into ranges of ``RANGE_ROWS`` primary keys
of the first database; each range is hashed on both sides (the raw stored
values, sealed columns as their ciphertext), and only a range whose digests
differ is read and compared row by row, so the report names exactly the rows
that differ: (table, key), and which columns. On PostgreSQL each server hashes
its own rows (md5 of each row's text, in key order), so a range that agrees
is never sent; an SQLite file is local, and is hashed as it is read. The repair plan
turns the side the operator trusts into statements for the other side; it is
printed, never run.

Both databases must be of one engine (the stored values are compared as the
driver returns them). Derived stores (roost/ops/derived.py) are left out: they
are checked against their own database by ``roost check derived``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.engine import Database
from roost.db.tables import metadata
from roost.ops.derived import derived_tables

RANGE_ROWS = 1000

Key = tuple[Any, ...]


@dataclass(frozen=True)
class RowDifference:
    table: str
    key: Key
    kind: str  # "only in primary", "only in replica", "differs"
    columns: tuple[str, ...] = ()


@dataclass
class Comparison:
    tables: int = 0
    rows: int = 0
    ranges: int = 0
    ranges_differing: int = 0
    missing_tables: list[str] = field(default_factory=list)
    differences: list[RowDifference] = field(default_factory=list)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _key_columns(table: Table) -> list[str]:
    keys = [c.name for c in table.primary_key.columns]
    return keys or [c.name for c in table.columns]


async def _has_table(conn: AsyncConnection, name: str) -> bool:
    def check(sync: Any) -> bool:
        from sqlalchemy import inspect

        return bool(inspect(sync).has_table(name))

    return await conn.run_sync(check)


def _where(keys: Sequence[str], after: Key | None, upto: Key | None) -> tuple[str, dict[str, Any]]:
    clauses, params = [], {}
    row = "(" + ", ".join(_q(k) for k in keys) + ")"
    for label, bound, op in (("a", after, ">"), ("u", upto, "<=")):
        if bound is not None:
            names = [f"{label}{i}" for i in range(len(keys))]
            clauses.append(f"{row} {op} (" + ", ".join(f":{n}" for n in names) + ")")
            params.update(dict(zip(names, bound, strict=True)))
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


async def _rows(
    conn: AsyncConnection,
    table: Table,
    keys: Sequence[str],
    after: Key | None,
    upto: Key | None,
    limit: int | None,
) -> list[tuple[Key, tuple[Any, ...]]]:
    # Raw SQL: no column types applied, so sealed columns compare as stored.
    columns = [c.name for c in table.columns]
    where, params = _where(keys, after, upto)
    sql = (
        f"SELECT {', '.join(_q(c) for c in columns)} FROM {_q(table.name)}{where} "
        f"ORDER BY {', '.join(_q(k) for k in keys)}"
    )
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    found = []
    for row in await conn.execute(text(sql), params):
        values = tuple(row)
        found.append((tuple(values[columns.index(k)] for k in keys), values))
    return found


def _digest(rows: Sequence[tuple[Key, tuple[Any, ...]]]) -> str:
    hasher = hashlib.sha256()
    for _key, values in rows:
        hasher.update(repr(values).encode())
        hasher.update(b"\n")
    return hasher.hexdigest()


def _differences(
    table: Table,
    primary: Sequence[tuple[Key, tuple[Any, ...]]],
    replica: Sequence[tuple[Key, tuple[Any, ...]]],
) -> list[RowDifference]:
    names = [c.name for c in table.columns]
    ours, theirs = dict(primary), dict(replica)
    found = []
    for key in sorted(set(ours) | set(theirs), key=repr):
        if key not in theirs:
            found.append(RowDifference(table.name, key, "only in primary"))
        elif key not in ours:
            found.append(RowDifference(table.name, key, "only in replica"))
        elif ours[key] != theirs[key]:
            changed = tuple(
                name for name, a, b in zip(names, ours[key], theirs[key], strict=True) if a != b
            )
            found.append(RowDifference(table.name, key, "differs", changed))
    return found


async def _boundary(
    conn: AsyncConnection, table: Table, keys: Sequence[str], after: Key | None
) -> Key | None:
    """The key closing the range that starts after ``after``; None for the last one."""
    where, params = _where(keys, after, None)
    order = ", ".join(_q(k) for k in keys)
    row = (
        await conn.execute(
            text(
                f"SELECT {order} FROM {_q(table.name)}{where} ORDER BY {order} "
                f"LIMIT 1 OFFSET {RANGE_ROWS - 1}"
            ),
            params,
        )
    ).first()
    return None if row is None else tuple(row)


async def _server_digest(
    conn: AsyncConnection, table: Table, keys: Sequence[str], after: Key | None, upto: Key | None
) -> tuple[int, str]:
    where, params = _where(keys, after, upto)
    order = ", ".join(_q(k) for k in keys)
    row = (
        await conn.execute(
            text(
                f"SELECT count(*), md5(coalesce(string_agg(md5(r::text), '' ORDER BY {order}), "
                f"'')) FROM {_q(table.name)} AS r{where}"
            ),
            params,
        )
    ).one()
    return int(row[0]), str(row[1])


async def _compare_on_servers(
    primary: AsyncConnection, replica: AsyncConnection, table: Table, result: Comparison
) -> None:
    keys = _key_columns(table)
    after: Key | None = None
    while True:
        upto = await _boundary(primary, table, keys, after)
        ours = await _server_digest(primary, table, keys, after, upto)
        theirs = await _server_digest(replica, table, keys, after, upto)
        result.ranges += 1
        result.rows += ours[0]
        if ours != theirs:
            result.ranges_differing += 1
            result.differences += _differences(
                table,
                await _rows(primary, table, keys, after, upto, None),
                await _rows(replica, table, keys, after, upto, None),
            )
        if upto is None:
            return
        after = upto


async def _compare_table(
    primary: AsyncConnection, replica: AsyncConnection, table: Table, result: Comparison
) -> None:
    if primary.dialect.name == "postgresql" and replica.dialect.name == "postgresql":
        await _compare_on_servers(primary, replica, table, result)
        return
    keys = _key_columns(table)
    after: Key | None = None
    while True:
        ours = await _rows(primary, table, keys, after, None, RANGE_ROWS)
        last = len(ours) < RANGE_ROWS
        upto = None if last else ours[-1][0]
        theirs = await _rows(replica, table, keys, after, upto, None)
        result.ranges += 1
        result.rows += len(ours)
        if _digest(ours) != _digest(theirs):
            result.ranges_differing += 1
            result.differences += _differences(table, ours, theirs)
        if last:
            return
        after = upto


async def compare(primary: Database, replica: Database) -> Comparison:
    """Compare every table of the schema in the two databases."""
    result = Comparison()
    skipped = set(derived_tables())
    async with primary.engine.connect() as ours, replica.engine.connect() as theirs:
        for table in metadata.sorted_tables:
            if table.name in skipped:
                continue
            result.tables += 1
            if not await _has_table(theirs, table.name):
                result.missing_tables.append(table.name)
                continue
            await _compare_table(ours, theirs, table, result)
    return result


def _key_text(table: str, key: Key) -> str:
    names = _key_columns(metadata.tables[table])
    return " AND ".join(f"{name} = {value!r}" for name, value in zip(names, key, strict=True))


def repair_plan(result: Comparison, trust: str) -> list[str]:
    """What to do to the side not trusted (``trust`` is "primary" or "replica")."""
    other = "replica" if trust == "primary" else "primary"
    plan = []
    for table in result.missing_tables:
        plan.append(f"on the {other}: the table {table} is missing; restore it from the {trust}")
    for diff in result.differences:
        where = _key_text(diff.table, diff.key)
        if diff.kind == f"only in {trust}":
            plan.append(f"on the {other}: INSERT the {trust}'s row of {diff.table} WHERE {where}")
        elif diff.kind == f"only in {other}":
            plan.append(f"on the {other}: DELETE FROM {diff.table} WHERE {where}")
        else:
            columns = ", ".join(diff.columns)
            plan.append(
                f"on the {other}: UPDATE {diff.table} SET {columns} to the {trust}'s values "
                f"WHERE {where}"
            )
    return plan
