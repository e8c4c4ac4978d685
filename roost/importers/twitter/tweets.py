"""One tweet of the archive, as the importer needs it.

The archive stores a tweet as the v1.1 API did, every number a string, in two
layouts: the 2019 ``tweet.js`` holds the tweet objects themselves, later ones
wrap each in ``{"tweet": {...}}``. ``tweet_from_json`` accepts both and raises
``MalformedTweet`` for an entry without the fields a post needs.

Dates are parsed by hand: ``strptime``'s ``%a``/``%b`` follow the process
locale, and an archive is always English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
# "Sat Feb 18 19:45:15 +0000 2023"
_CLASSIC = re.compile(
    r"^\s*[A-Za-z]{3}\s+([A-Za-z]{3})\s+(\d{1,2})\s+(\d{2}):(\d{2}):(\d{2})\s+"
    r"([+-])(\d{2})(\d{2})\s+(\d{4})\s*$"
)
# Snowflake ids (every tweet since November 2010) carry their creation time.
TWITTER_EPOCH_MS = 1288834974657
_SNOWFLAKE_MIN = 1 << 40


class MalformedTweet(ValueError):
    """An entry of the tweets file that is not a usable tweet."""


def parse_date(value: str) -> datetime:
    """A date as archives write it, classic or ISO 8601, as aware UTC."""
    match = _CLASSIC.match(value)
    if match is not None:
        month = _MONTHS.get(match.group(1).lower())
        if month is None:
            raise ValueError(f"unknown month in {value!r}")
        sign = 1 if match.group(6) == "+" else -1
        offset = timedelta(hours=int(match.group(7)), minutes=int(match.group(8))) * sign
        local = datetime(
            int(match.group(9)),
            month,
            int(match.group(2)),
            int(match.group(3)),
            int(match.group(4)),
            int(match.group(5)),
            tzinfo=UTC,
        )
        return local - offset
    moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def snowflake_time(tweet_id: int) -> datetime | None:
    """When a snowflake id was made (to the millisecond); None for older ids."""
    if tweet_id < _SNOWFLAKE_MIN:
        return None
    return datetime.fromtimestamp(((tweet_id >> 22) + TWITTER_EPOCH_MS) / 1000, tz=UTC)


@dataclass(frozen=True, slots=True)
class Media:
    short_url: str
    kind: str  # photo, video, animated_gif
    file_names: tuple[str, ...]  # candidates in tweets_media/, best first


@dataclass(frozen=True, slots=True)
class Tweet:
    id: int
    created_at: datetime
    text: str  # full_text as stored: t.co links, HTML entities
    urls: tuple[tuple[str, str], ...]  # (t.co, expanded)
    media: tuple[Media, ...]
    in_reply_to_id: int | None
    in_reply_to_user_id: int | None
    in_reply_to_screen_name: str | None
    lang: str | None
    sensitive: bool
    edit_ids: tuple[int, ...]  # every version of an edited tweet, this one included

    @property
    def is_retweet(self) -> bool:
        return self.text.startswith("RT @")

    @property
    def edit_group(self) -> int | None:
        """The first version's id, shared by all versions; None if never edited."""
        return min(self.edit_ids) if len(self.edit_ids) > 1 else None


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _str_list(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _media(tweet_id: int, entry: dict[str, Any]) -> Media | None:
    short = entry.get("url")
    if not isinstance(short, str):
        return None
    kind = str(entry.get("type") or "photo")
    names: list[str] = []
    variants = _str_list((entry.get("video_info") or {}).get("variants"))
    # The archive keeps the best video variant; try them by bitrate, best first.
    variants.sort(key=lambda v: _int(v.get("bitrate")) or 0, reverse=True)
    for variant in variants:
        url = variant.get("url")
        if isinstance(url, str):
            names.append(f"{tweet_id}-{url.split('?')[0].rsplit('/', 1)[-1]}")
    still = entry.get("media_url_https") or entry.get("media_url")
    if isinstance(still, str) and (kind == "photo" or not names):
        names.append(f"{tweet_id}-{still.rsplit('/', 1)[-1]}")
    return Media(short_url=short, kind=kind, file_names=tuple(names))


def _edit_ids(tweet: dict[str, Any], tweet_id: int) -> tuple[int, ...]:
    info = tweet.get("edit_info")
    if not isinstance(info, dict):
        return (tweet_id,)
    control = info.get("initial") or (info.get("edit") or {}).get("editControlInitial") or {}
    listed = control.get("editTweetIds") or []
    if len(listed) < 2:
        return (tweet_id,)  # never edited: nearly every tweet
    ids = {i for i in (_int(x) for x in listed) if i is not None}
    ids.add(tweet_id)
    return tuple(sorted(ids))


def _unwrap(element: Any) -> dict[str, Any] | None:
    """The tweet object of either layout: ``{"tweet": {...}}`` or the bare one."""
    tweet = element.get("tweet") if isinstance(element, dict) else None
    if isinstance(tweet, dict):
        return tweet
    return element if isinstance(element, dict) else None


def identify(element: Any) -> tuple[int, tuple[int, ...]] | None:
    """A tweet's id and its versions' ids, read cheaply (the first pass reads
    every tweet only for these); None for an entry that is no tweet."""
    tweet = _unwrap(element)
    tweet_id = _int(tweet.get("id_str") or tweet.get("id")) if tweet is not None else None
    if tweet is None or tweet_id is None:
        return None
    return tweet_id, _edit_ids(tweet, tweet_id)


def short_links(element: Any) -> list[tuple[str, str]]:
    """(t.co, expanded) of a tweet's links."""
    tweet = _unwrap(element) or {}
    entities = tweet.get("entities")
    if not isinstance(entities, dict):
        return []
    return [
        (u["url"], u.get("expanded_url") or u["url"])
        for u in _str_list(entities.get("urls"))
        if isinstance(u.get("url"), str)
    ]


def tweet_from_json(element: Any) -> Tweet:
    """One element of tweets.js (either layout) as a Tweet."""
    tweet = _unwrap(element)
    if tweet is None:
        raise MalformedTweet("an entry is not an object")
    tweet_id = _int(tweet.get("id_str") or tweet.get("id"))
    text = tweet.get("full_text", tweet.get("text"))
    raw_date = tweet.get("created_at")
    if tweet_id is None or not isinstance(text, str) or not isinstance(raw_date, str):
        raise MalformedTweet("a tweet without id, text or date")
    try:
        created_at = parse_date(raw_date)
    except ValueError:
        raise MalformedTweet(f"tweet {tweet_id} has an unreadable date {raw_date!r}") from None
    raw_entities = tweet.get("entities")
    entities: dict[str, Any] = raw_entities if isinstance(raw_entities, dict) else {}
    extended = tweet.get("extended_entities")
    media_entries = _str_list(
        (extended if isinstance(extended, dict) else entities).get("media")
    ) or _str_list(entities.get("media"))
    urls = tuple(
        (u["url"], u.get("expanded_url") or u["url"])
        for u in _str_list(entities.get("urls"))
        if isinstance(u.get("url"), str)
    )
    lang = tweet.get("lang")
    return Tweet(
        id=tweet_id,
        created_at=created_at,
        text=text,
        urls=urls,
        media=tuple(m for m in (_media(tweet_id, e) for e in media_entries) if m is not None),
        in_reply_to_id=_int(tweet.get("in_reply_to_status_id_str")),
        in_reply_to_user_id=_int(tweet.get("in_reply_to_user_id_str")),
        in_reply_to_screen_name=tweet.get("in_reply_to_screen_name") or None,
        lang=lang if isinstance(lang, str) and lang not in {"und", "qme", "zxx", "qht"} else None,
        sensitive=str(tweet.get("possibly_sensitive", "")).lower() == "true",
        edit_ids=_edit_ids(tweet, tweet_id),
    )


def moment_of(tweet: Tweet) -> datetime:
    """The post's time: the id's millisecond time when it agrees with the
    archive's date (to order tweets of one second), else the archive's date."""
    exact = snowflake_time(tweet.id)
    if exact is not None and abs((exact - tweet.created_at).total_seconds()) < 1.5:
        return exact
    return tweet.created_at
