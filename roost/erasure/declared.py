"""Every built-in declaration loaded: the tables' policies
(roost/erasure/tables.py) and the derived stores' purges
(roost/erasure/stores.py). Import this before asking the registry for them."""

from __future__ import annotations

from roost.erasure import stores, tables
from roost.erasure.registry import purges, table_policies, undeclared

__all__ = ["purges", "stores", "table_policies", "tables", "undeclared"]
