"""The erasure registry: what happens to an account's data in every store.

Every table in ``roost.db.tables.metadata`` declares one policy
(tests/erasure/test_registry.py fails for a table without one):

    DELETE     the account's rows go: rows whose ``accounts`` columns name the
               account, and rows whose ``statuses`` columns name one of its posts
    ANONYMISE  such rows stay, with ``set_values`` written over the columns that
               tie them to the account
    KEEP       nothing personal is kept there (``reason`` says why)

A table whose rows go with a parent row by a cascading foreign key declares
DELETE with ``cascade_from`` instead of columns. ``extra`` runs special work in
the erasure's transaction (a count to fix, a job payload to drop).

Every derived store (timelines, caches, the search index, media files, the
database files themselves) registers a purge with ``register_purge``; each
runs after the transaction commits, in registration order, and returns what it
removed for the receipt. New tables and stores declare themselves in
roost/erasure/tables.py and roost/erasure/stores.py (or beside their own code);
``roost.erasure.declared`` imports those two, so whoever erases has them all.
The registry imports neither: the declarations import it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import MetaData

if TYPE_CHECKING:
    from roost.db.engine import Tx
    from roost.erasure.subject import Subject
    from roost.services import Services


class Policy(StrEnum):
    DELETE = "delete"
    ANONYMISE = "anonymise"
    KEEP = "keep"


Extra = Callable[["Tx", "Subject"], Awaitable[int]]


@dataclass(frozen=True)
class TablePolicy:
    table: str
    policy: Policy
    reason: str
    accounts: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    cascade_from: str | None = None
    set_values: dict[str, Any] = field(default_factory=dict)
    extra: Extra | None = None


_tables: dict[str, TablePolicy] = {}


def declare(
    table: str,
    policy: Policy,
    *,
    reason: str,
    accounts: tuple[str, ...] = (),
    statuses: tuple[str, ...] = (),
    cascade_from: str | None = None,
    set_values: dict[str, Any] | None = None,
    extra: Extra | None = None,
) -> None:
    if table in _tables:
        raise RuntimeError(f"table {table!r} declares its erasure policy twice")
    if policy is Policy.ANONYMISE and not set_values:
        raise RuntimeError(f"{table}: ANONYMISE needs the values it writes")
    if policy is Policy.DELETE and not (accounts or statuses or cascade_from or extra):
        raise RuntimeError(f"{table}: DELETE needs the columns (or parent) that find the rows")
    _tables[table] = TablePolicy(
        table, policy, reason, accounts, statuses, cascade_from, set_values or {}, extra
    )


def table_policies() -> dict[str, TablePolicy]:
    """Every declaration made so far (``roost.erasure.declared`` makes them all)."""
    return dict(_tables)


def undeclared(metadata: MetaData) -> list[str]:
    """Tables with no policy: each is a place erased data could hide."""
    known = table_policies()
    return sorted(t.name for t in metadata.sorted_tables if t.name not in known)


@dataclass(frozen=True)
class PurgeResult:
    removed: int
    detail: str = ""


Purge = Callable[["Services", "Subject"], Awaitable[PurgeResult]]
_purges: dict[str, Purge] = {}


def register_purge(store_name: str, purge: Purge) -> None:
    """Register how ``store_name`` forgets an erased account (after commit)."""
    if store_name in _purges:
        raise RuntimeError(f"store {store_name!r} registered its purge twice")
    _purges[store_name] = purge


def purges() -> dict[str, Purge]:
    """Every purge registered so far, in registration order."""
    return dict(_purges)
