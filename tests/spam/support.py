"""Posting near duplicates and reading spam clusters in tests, through the
real actions."""

from __future__ import annotations

from roost.config import Settings
from roost.domain.audit.chain import CONSOLE, Staff
from roost.domain.spam import actions
from roost.domain.spam.actions import ClusterSummary, Decision
from tests.conftest import Roost, User

WAVE = (
    "Claim your free crypto bonus now at https://bonus.example/{n} before it runs out, "
    "limited offer for new members only {mention}"
)


def wave_post(user: User, n: int, mention: str = "") -> str:
    return str(user.post_status(WAVE.format(n=n, mention=mention))["id"])


def open_clusters(roost: Roost, settings: Settings | None = None) -> list[ClusterSummary]:
    s = settings or roost.settings

    async def read() -> list[ClusterSummary]:
        async with roost.db.read() as conn:
            return await actions.clusters(
                conn,
                CONSOLE,
                min_size=s.spam_cluster_min_size,
                new_account_days=s.spam_new_account_days,
            )

    return roost.run(read)


def act(roost: Roost, cluster_id: int, decision: Decision, actor: Staff = CONSOLE) -> int:
    async def run() -> int:
        async with roost.db.write() as tx:
            return await actions.act(tx, actor, cluster_id, decision)

    return roost.run(run)
