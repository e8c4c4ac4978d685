"""bench/_grow.py's bulk rows leave what the actions would: every counter equal
to the rows it counts, a notification for each follow, favourite, boost and
mention, a conversation for each direct post, and the routes answer."""

from __future__ import annotations

import random

from sqlalchemy import func, select

from bench._grow import Size, _Grower
from roost.db.tables import (
    accounts,
    conversation_participants,
    favourites,
    follows,
    mentions,
    notifications,
    status_conversations,
    statuses,
)
from roost.domain.types import Visibility
from tests.conftest import Roost


def _grow(roost: Roost, posts: int, accounts_wanted: int) -> None:
    async def body() -> None:
        await _Grower(
            roost.db,
            roost.settings,
            Size("test", posts, accounts_wanted),
            random.Random(5),
            recent=0.3,
        ).run()

    roost.run(body)


def test_given_a_grown_installation_then_every_counter_equals_the_rows_it_counts(
    roost: Roost,
) -> None:
    viewer = roost.account("viewer")
    author = roost.account("author000")
    viewer.follow(author)
    author.post_status("Made by the actions")
    roost.drain_jobs()

    _grow(roost, posts=1500, accounts_wanted=120)

    async def mismatches() -> dict[str, int]:
        async with roost.db.read() as conn:

            async def count(query: object) -> int:
                return int((await conn.execute(query)).scalar_one())  # type: ignore[call-overload]

            posts_of = (
                select(func.count()).where(statuses.c.account_id == accounts.c.id).scalar_subquery()
            )
            followers_of = (
                select(func.count())
                .where(follows.c.target_account_id == accounts.c.id)
                .scalar_subquery()
            )
            following_of = (
                select(func.count()).where(follows.c.account_id == accounts.c.id).scalar_subquery()
            )
            replies = statuses.alias("replies")
            boosts = statuses.alias("boosts")
            replies_of = (
                select(func.count())
                .where(replies.c.in_reply_to_id == statuses.c.id)
                .scalar_subquery()
            )
            boosts_of = (
                select(func.count()).where(boosts.c.reblog_of_id == statuses.c.id).scalar_subquery()
            )
            favourites_of = (
                select(func.count())
                .where(favourites.c.status_id == statuses.c.id)
                .scalar_subquery()
            )
            return {
                "accounts": await count(select(func.count()).select_from(accounts)),
                "posts": await count(select(func.count()).select_from(statuses)),
                "statuses_count": await count(
                    select(func.count()).where(accounts.c.statuses_count != posts_of)
                ),
                "followers_count": await count(
                    select(func.count()).where(accounts.c.followers_count != followers_of)
                ),
                "following_count": await count(
                    select(func.count()).where(accounts.c.following_count != following_of)
                ),
                "replies_count": await count(
                    select(func.count()).where(statuses.c.replies_count != replies_of)
                ),
                "reblogs_count": await count(
                    select(func.count()).where(statuses.c.reblogs_count != boosts_of)
                ),
                "favourites_count": await count(
                    select(func.count()).where(statuses.c.favourites_count != favourites_of)
                ),
                "follows": await count(select(func.count()).select_from(follows)),
                "follow notices": await count(
                    select(func.count()).where(notifications.c.type == "follow")
                ),
                "favourites": await count(select(func.count()).select_from(favourites)),
                "favourite notices": await count(
                    select(func.count()).where(notifications.c.type == "favourite")
                ),
                "mentions": await count(select(func.count()).select_from(mentions)),
                "mention notices": await count(
                    select(func.count()).where(notifications.c.type == "mention")
                ),
                "direct": await count(
                    select(func.count()).where(statuses.c.visibility == int(Visibility.DIRECT))
                ),
                "conversations": await count(
                    select(func.count()).select_from(status_conversations)
                ),
                "unread": await count(
                    select(func.count()).where(conversation_participants.c.unread.is_(True))
                ),
            }

    found = roost.run(mismatches)
    assert found["accounts"] == 120
    assert found["posts"] == 1501
    for counter in (
        "statuses_count",
        "followers_count",
        "following_count",
        "replies_count",
        "reblogs_count",
        "favourites_count",
    ):
        assert found[counter] == 0, counter
    assert found["follows"] > 100 and found["follow notices"] == found["follows"]
    assert found["favourites"] > 50 and found["favourite notices"] == found["favourites"]
    assert found["mentions"] > 100 and found["mention notices"] == found["mentions"]
    assert found["direct"] > 10 and found["conversations"] == found["direct"]
    assert found["unread"] >= found["direct"]
    # The routes read the grown data.
    for path in (
        "/api/v1/timelines/home",
        f"/api/v1/accounts/{author.id}/statuses",
        "/api/v1/notifications",
        "/api/v1/conversations",
    ):
        answer = viewer.get(path)
        assert answer.status_code == 200, (path, answer.text)
    assert viewer.get(f"/api/v1/accounts/{author.id}").json()["followers_count"] > 1
