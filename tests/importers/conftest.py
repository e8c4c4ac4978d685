"""Running imports in tests, and one archive with every case in it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from roost.db.tables import jobs, statuses, twitter_imports
from roost.domain.types import Visibility
from roost.importers.twitter.report import Report
from roost.importers.twitter.run import ImportRequest, import_archive
from roost.importers.twitter.runs import ImportOptions, ImportRun
from tests.conftest import Roost, User
from tests.importers.builder import ArchiveBuilder, png, snowflake

ELSEWHERE = (424242, "carol")


def run_import(
    roost: Roost,
    user: User,
    path: Path,
    *,
    visibility: Visibility = Visibility.PUBLIC,
    skip_retweets: bool = False,
    include_dms: bool = False,
    force: bool = False,
) -> ImportRun:
    options = ImportOptions(
        visibility=visibility,
        skip_retweets=skip_retweets,
        include_dms=include_dms,
        force=force,
    )
    request = ImportRequest(account_id=int(user.id), source=path, options=options)

    async def go() -> ImportRun:
        return await import_archive(roost.db, roost.settings, request)

    return roost.run(go)


def report_of(run: ImportRun) -> Report:
    return Report.from_json(run.report)


def rows(roost: Roost, query: Any) -> list[Any]:
    async def read() -> list[Any]:
        async with roost.db.read() as conn:
            return list((await conn.execute(query)).mappings().all())

    return roost.run(read)


def count(roost: Roost, table: Any, *where: Any) -> int:
    found = rows(roost, select(func.count().label("n")).select_from(table).where(*where))
    return int(found[0]["n"])


def posts_by_text(roost: Roost, user: User) -> dict[str, dict[str, Any]]:
    """The account's posts keyed by the first 40 characters of their text."""
    found = rows(roost, select(statuses).where(statuses.c.account_id == int(user.id)))
    return {r["text"][:40]: dict(r) for r in found}


def nothing_written(roost: Roost, user: User) -> bool:
    return (
        count(roost, statuses, statuses.c.account_id == int(user.id)) == 0
        and count(roost, twitter_imports) == 0
        and count(roost, jobs, jobs.c.kind.like("import%")) == 0
    )


@dataclass
class Rich:
    """The ids of the interesting tweets of ``rich_archive``."""

    builder: ArchiveBuilder
    ids: dict[str, int]


def rich_archive() -> Rich:
    """An archive with one of everything an import must handle."""
    b = ArchiveBuilder(parts=2)
    ids: dict[str, int] = {}

    def add(key: str, text: str, **kwargs: Any) -> dict[str, Any]:
        tweet = b.tweet(text, **kwargs)
        ids[key] = int(tweet["id_str"])
        return tweet

    add(
        "link",
        "Fish &amp; chips &lt;3 https://t.co/fish000001",
        urls={"https://t.co/fish000001": "https://example.org/fish?x=1&y=2"},
    )
    b.website = "https://t.co/web0000001"
    add(
        "profile_link",
        "My site is https://t.co/web0000001",
        urls={"https://t.co/web0000001": "https://alice.example.org"},
    )
    add("handle", "@bob knows about #Birds and @carol too")
    add("root", "Thread start: herons")
    add("middle", "Thread middle: egrets", reply_to=ids["root"])
    add("end", "Thread end: bitterns", reply_to=ids["middle"])
    add("other_reply", "@carol agreed, storks", reply_to=123456789, reply_to_user=ELSEWHERE)
    add("retweet", "RT @dave: cormorants are underrated")
    add(
        "quote_own",
        "Still true https://t.co/quote00001",
        urls={"https://t.co/quote00001": f"https://twitter.com/alice/status/{ids['root']}"},
    )
    add(
        "quote_other",
        "Look https://t.co/quote00002",
        urls={"https://t.co/quote00002": "https://twitter.com/erin/status/111222333"},
    )
    long_tweet = add(
        "long", "The beginning of a very long post about pelicans… https://t.co/long000001"
    )
    b.note(
        long_tweet,
        "The beginning of a very long post about pelicans, which goes on and on " * 6
        + "and ends with flamingos https://t.co/note000001",
        {"https://t.co/note000001": "https://example.org/flamingos"},
    )
    first = b.next_moment()
    first_id = snowflake(first)
    second_id = snowflake(b.next_moment())
    b.tweet("Spoonbils tpyo", moment=first, tweet_id=first_id, edit_ids=[first_id, second_id])
    b.tweet(
        "Spoonbills, typo fixed",
        tweet_id=second_id,
        edit_ids=[first_id, second_id],
        initial_id=first_id,
    )
    ids["edited_first"], ids["edited"] = first_id, second_id
    deleted = b.tweet("I regret this albatross", into="deleted")
    ids["deleted"] = int(deleted["id_str"])
    inner = add("circle_both", "Circle and tweets: grebes")
    b.circle.append(inner)
    circle_only = b.tweet("Circle only: loons", into="circle")
    ids["circle_only"] = int(circle_only["id_str"])
    pictured = add(
        "media",
        "Two pictures of ibises https://t.co/pics000001",
        media=[("https://t.co/pics000001", "IBIS1"), ("https://t.co/pics000001", "IBIS2")],
    )
    b.add_media_file(pictured, "IBIS1", png())
    b.profile_media[f"{b.account_id}-AVATAR01.png"] = png((10, 200, 10), (64, 64))
    b.like(555000111, "A liked tweet about kingfishers")
    b.like(555000222, "Another about nightjars")
    b.relations = {
        "follower": [11, 12, 13],
        "following": [21, 22],
        "block": [31],
        "mute": [41],
    }
    at = b.next_moment()
    b.message("1000001-77", b.account_id, 77, "A private word about owls", at)
    b.message("1000001-77", 77, b.account_id, "Owls indeed", b.next_moment())
    b.message("group-1", 88, None, "Group chat on swifts", b.next_moment())
    return Rich(b, ids)
