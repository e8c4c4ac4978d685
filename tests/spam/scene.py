"""The spam-wave scene, set through the real actions: accounts signed up as
people sign up (with the address they came from), posts published with the
action the API uses, then the figures read back from the clusters.

Shared by the drill (tests/drills/test_spam_wave.py) and the benchmark
(bench/spam_clusters.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, update

from roost.clock import utcnow
from roost.config import Registrations, Settings
from roost.db.engine import Database
from roost.db.tables import accounts, spam_cluster_posts
from roost.domain.accounts.sign_up import SignUp, do_sign_up
from roost.domain.statuses.actions import NewStatus, do_create_status
from roost.domain.types import Viewer
from tests.spam.corpus import Post, corpus

ORDINARY_ACCOUNTS = 300
NEW_ORDINARY = 30  # ordinary people who joined this week
WAVE_ACCOUNTS = 50
PASSWORD = "correct horse battery"
PEOPLE_MAIL = ("gmail.com", "outlook.com", "posteo.de", "fastmail.com", "web.de")
WAVE_MAIL = ("mailbox.example", "quickmail.example", "inbox.example")
WAVE_NETWORKS = ("203.0.113", "198.51.100")


@dataclass(frozen=True)
class Scene:
    posts: list[Post]
    status_ids: list[int]
    ordinary: list[int]  # account ids
    wave: list[int]


async def _sign_up(db: Database, username: str, email: str, address: str) -> int:
    async with db.write() as tx:
        done = await do_sign_up(
            tx,
            Registrations.OPEN,
            SignUp(
                username=username,
                email=email,
                password=PASSWORD,
                agreement=True,
                address=address,
            ),
        )
    return done.account_id


async def sign_up_everyone(db: Database) -> tuple[list[int], list[int]]:
    """300 ordinary accounts (all but 30 of them months or years old) and 50
    new ones, the wave's, signing up from two networks with three throwaway
    mail domains."""
    ordinary = [
        await _sign_up(
            db, f"person{n}", f"person{n}@{PEOPLE_MAIL[n % 5]}", f"10.{n % 250}.{n % 7}.9"
        )
        for n in range(ORDINARY_ACCOUNTS)
    ]
    wave = [
        await _sign_up(
            db,
            f"fresh{n}",
            f"fresh{n}@{WAVE_MAIL[n % 3]}",
            f"{WAVE_NETWORKS[n % 2]}.{10 + n}",
        )
        for n in range(WAVE_ACCOUNTS)
    ]
    # Time passes for the established accounts: they joined long ago (the
    # one thing set by hand, as no action makes an account in the past).
    async with db.write() as tx:
        for n, account_id in enumerate(ordinary[NEW_ORDINARY:]):
            await tx.execute(
                update(accounts)
                .where(accounts.c.id == account_id)
                .values(created_at=utcnow() - timedelta(days=30 + (n * 37) % 1500))
            )
    return ordinary, wave


async def publish(
    db: Database,
    settings: Settings,
    author: int,
    text: str,
    *,
    cluster: bool = True,
) -> int:
    async with db.write() as tx:
        return await do_create_status(
            tx,
            Viewer(account_id=author, scopes=frozenset({"write"})),
            NewStatus(text=text),
            base_url=settings.base_url,
            max_chars=settings.max_post_chars,
            cluster=cluster,
        )


async def set_scene(db: Database, settings: Settings) -> Scene:
    ordinary, wave = await sign_up_everyone(db)
    posts = corpus(
        ordinary_accounts=ORDINARY_ACCOUNTS,
        wave_accounts=WAVE_ACCOUNTS,
        usernames=[f"person{n}" for n in range(ORDINARY_ACCOUNTS)],
    )
    ids = []
    for post in posts:
        author = wave[post.author] if post.wave else ordinary[post.author]
        ids.append(await publish(db, settings, author, post.text))
    return Scene(posts, ids, ordinary, wave)


@dataclass(frozen=True)
class Figures:
    wave_flagged: int
    wave_total: int
    ordinary_flagged: int
    ordinary_total: int
    clusters: list[int]  # sizes of the clusters staff are shown

    @property
    def wave_rate(self) -> float:
        return self.wave_flagged / self.wave_total

    @property
    def ordinary_rate(self) -> float:
        return self.ordinary_flagged / self.ordinary_total

    def __str__(self) -> str:
        return (
            f"wave flagged {self.wave_flagged}/{self.wave_total} ({self.wave_rate:.1%}); "
            f"ordinary flagged {self.ordinary_flagged}/{self.ordinary_total} "
            f"({self.ordinary_rate:.2%}); clusters shown to staff: {self.clusters}"
        )


async def figures(db: Database, settings: Settings, scene: Scene) -> Figures:
    """A post is flagged when it is in a cluster staff are shown (at least
    ROOST_SPAM_CLUSTER_MIN_SIZE posts)."""
    async with db.read() as conn:
        size = func.count().label("size")
        sizes = {
            int(r.cluster_id): int(r.size)
            for r in await conn.execute(
                select(spam_cluster_posts.c.cluster_id, size).group_by(
                    spam_cluster_posts.c.cluster_id
                )
            )
        }
        member = {
            int(r.status_id): int(r.cluster_id)
            for r in await conn.execute(
                select(spam_cluster_posts.c.status_id, spam_cluster_posts.c.cluster_id)
            )
        }
    shown = {cid for cid, n in sizes.items() if n >= settings.spam_cluster_min_size}
    flagged = {sid for sid, cid in member.items() if cid in shown}
    wave_ids = [sid for sid, p in zip(scene.status_ids, scene.posts, strict=True) if p.wave]
    ordinary_ids = [sid for sid, p in zip(scene.status_ids, scene.posts, strict=True) if not p.wave]
    return Figures(
        wave_flagged=sum(1 for s in wave_ids if s in flagged),
        wave_total=len(wave_ids),
        ordinary_flagged=sum(1 for s in ordinary_ids if s in flagged),
        ordinary_total=len(ordinary_ids),
        clusters=sorted((sizes[c] for c in shown), reverse=True),
    )
