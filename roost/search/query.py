"""What people type into the search box, parsed. Never raises.

    word               posts containing the word
    "two words"        the words next to each other, in this order
    -word, -"a b"      posts without them
    from:me            the searcher's own posts (from:NAME: that account's)
    has:media          posts with attachments (-has:media: without)
    before:2024-05-01  posted before that day began (UTC)
    after:2024-05-01   posted after that day ended
    during:2024-05-01  posted on that day

Anything else, including an operator with a value it does not understand
(``before:yesterday``, ``colour:red``) or an unclosed quote, is searched for
literally: a malformed query finds what its words find, and is never an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from roost.search.text import words

Phrase = tuple[str, ...]


@dataclass(frozen=True)
class SearchQuery:
    include: tuple[Phrase, ...] = ()
    exclude: tuple[Phrase, ...] = ()
    from_me: bool = False
    from_username: str | None = None
    # None: either way; True: only posts with media; False: only posts without.
    has_media: bool | None = None
    since: datetime | None = None  # posted at or after
    until: datetime | None = None  # posted before
    # Paging bounds on post ids set by the API (max_id, min_id), not typed.
    below_id: int | None = None
    above_id: int | None = None
    # A contradiction (from two different people, an empty date range): nothing.
    impossible: bool = field(default=False)

    @property
    def searchable(self) -> bool:
        """A query finds posts only by words it contains; operators narrow them."""
        return bool(self.include) and not self.impossible


def parse(text: str) -> SearchQuery:
    query = SearchQuery()
    include: list[Phrase] = []
    exclude: list[Phrase] = []
    for negated, quoted, chunk in _chunks(text):
        if not quoted:
            operated = _operator(query, chunk, negated)
            if operated is not None:
                query = operated
                continue
        phrase = tuple(words(chunk))
        if phrase:
            (exclude if negated else include).append(phrase)
    query = replace(query, include=tuple(dict.fromkeys(include)), exclude=tuple(exclude))
    if query.since is not None and query.until is not None and query.since >= query.until:
        query = replace(query, impossible=True)
    return query


def _chunks(text: str) -> list[tuple[bool, bool, str]]:
    """(negated, quoted, text) for each word or quoted phrase, left to right."""
    chunks: list[tuple[bool, bool, str]] = []
    i, size = 0, len(text)
    while i < size:
        if text[i].isspace():
            i += 1
            continue
        negated = text[i] == "-" and i + 1 < size and not text[i + 1].isspace()
        if negated or text[i] == "+":
            i += 1
        if i < size and text[i] == '"':
            end = text.find('"', i + 1)
            end = size if end == -1 else end
            chunks.append((negated, True, text[i + 1 : end]))
            i = end + 1
            continue
        start = i
        while i < size and not text[i].isspace():
            i += 1
        chunks.append((negated, False, text[start:i]))
    return chunks


def _operator(query: SearchQuery, chunk: str, negated: bool) -> SearchQuery | None:
    """The query narrowed by ``chunk`` if it is an operator it understands."""
    key, colon, value = chunk.partition(":")
    key = key.lower()
    if not colon or not value:
        return None
    if key == "from" and not negated:
        name = value.lstrip("@").split("@")[0]
        if not name:
            return None
        if name.lower() == "me":
            return replace(query, from_me=True)
        if query.from_username is not None and query.from_username != name.lower():
            return replace(query, impossible=True)
        return replace(query, from_username=name.lower())
    if key == "has" and value.lower() == "media":
        wanted = not negated
        if query.has_media is not None and query.has_media != wanted:
            return replace(query, impossible=True)
        return replace(query, has_media=wanted)
    if key in {"before", "after", "during"} and not negated:
        return _dated(query, key, value)
    return None


def _dated(query: SearchQuery, key: str, value: str) -> SearchQuery | None:
    try:
        day = date.fromisoformat(value)
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        end = start + timedelta(days=1)
    except (ValueError, OverflowError):
        return None
    since, until = query.since, query.until
    if key in {"after", "during"}:
        lower = end if key == "after" else start
        since = lower if since is None else max(since, lower)
    if key in {"before", "during"}:
        upper = start if key == "before" else end
        until = upper if until is None else min(until, upper)
    return replace(query, since=since, until=until)
