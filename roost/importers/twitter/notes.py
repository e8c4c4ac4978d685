"""Long posts: tweets.js holds the first 280 characters of a long post, and
note-tweet.js its whole text, with nothing but the time to join the two.

A note belongs to the tweet posted within a second of it whose beginning it
shares (compared without links, entities and spacing, which the two files
write differently), as the community-archive tools match them.
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any

from roost.importers.twitter.mapping import LongText
from roost.importers.twitter.tweets import Tweet, parse_date

# The notes are kept in memory until their tweets come by; past this many
# characters, further notes are left out (their posts keep the short text)
# rather than letting memory grow with the archive.
MAX_NOTE_CHARS = 32 << 20
_COMPARED = 40
_LINK = re.compile(r"https?://\S+")
_SPACE = re.compile(r"\s+")


def _comparable(text: str) -> str:
    plain = _LINK.sub(" ", html.unescape(text)).replace("\u2026", " ")
    return _SPACE.sub(" ", plain).strip()


class NoteIndex:
    def __init__(self, max_chars: int = MAX_NOTE_CHARS) -> None:
        self._by_second: dict[int, list[tuple[str, LongText]]] = {}
        self._chars = 0
        self._max_chars = max_chars
        self.left_out = 0
        self.used = 0

    def add(self, element: Any) -> bool:
        """Index one element of note-tweet.js; False when it is not a note."""
        note = element.get("noteTweet") if isinstance(element, dict) else None
        core = note.get("core") if isinstance(note, dict) else None
        if not isinstance(note, dict) or not isinstance(core, dict):
            return False
        text, created = core.get("text"), note.get("createdAt")
        if not isinstance(text, str) or not isinstance(created, str):
            return False
        try:
            moment = parse_date(created)
        except ValueError:
            return False
        if self._chars + len(text) > self._max_chars:
            self.left_out += 1
            return True
        urls = tuple(
            (u["shortUrl"], u.get("expandedUrl") or u["shortUrl"])
            for u in core.get("urls") or []
            if isinstance(u, dict) and isinstance(u.get("shortUrl"), str)
        )
        self._chars += len(text)
        second = _second(moment)
        self._by_second.setdefault(second, []).append((_comparable(text), LongText(text, urls)))
        return True

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_second.values())

    def take(self, tweet: Tweet) -> LongText | None:
        """The long text of this tweet, if it has one (each note is used once)."""
        if not self._by_second:
            return None
        short = _comparable(tweet.text)[:_COMPARED]
        if not short:
            return None  # nothing to recognise the note by
        second = _second(tweet.created_at)
        for candidate_second in (second, second - 1, second + 1):
            notes = self._by_second.get(candidate_second)
            if not notes:
                continue
            for index, (key, long) in enumerate(notes):
                if key.startswith(short) or short.startswith(key[:_COMPARED]):
                    del notes[index]
                    if not notes:
                        del self._by_second[candidate_second]
                    self.used += 1
                    return long
        return None


def _second(moment: datetime) -> int:
    return int(moment.timestamp())
