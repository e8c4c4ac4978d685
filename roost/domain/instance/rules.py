"""The instance's rules: shown on the about page and at sign-up, served as
``GET /api/v1/instance/rules``, managed with ``roost rules``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import instance_rules
from roost.errors import Invalid, NotFound
from roost.ids import new_id

MAX_TEXT = 1000
MAX_HINT = 2000


@dataclass(frozen=True)
class Rule:
    id: int
    text: str
    hint: str


async def do_add_rule(tx: Tx, text: str, hint: str = "") -> Rule:
    text, hint = text.strip(), hint.strip()
    if not text:
        raise Invalid("A rule needs its text")
    if len(text) > MAX_TEXT or len(hint) > MAX_HINT:
        raise Invalid(f"A rule is {MAX_TEXT} characters at most, its hint {MAX_HINT}")
    last = (await tx.execute(select(func.max(instance_rules.c.position)))).scalar()
    rule_id = new_id()
    await tx.execute(
        instance_rules.insert().values(
            id=rule_id,
            text=text,
            hint=hint,
            position=(last or 0) + 1,
            created_at=utcnow(),
        )
    )
    return Rule(rule_id, text, hint)


async def do_remove_rule(tx: Tx, rule_id: int) -> None:
    result = await tx.execute(delete(instance_rules).where(instance_rules.c.id == rule_id))
    if not result.rowcount:
        raise NotFound(f"No rule with id {rule_id}")


async def rules(conn: AsyncConnection) -> list[Rule]:
    rows = await conn.execute(
        select(instance_rules).order_by(instance_rules.c.position, instance_rules.c.id)
    )
    return [Rule(r.id, r.text, r.hint) for r in rows]
