"""Words, the way the search index sees them.

Both engines are handed text that Roost has already cut into words: lower-case
(case-folded), accents removed, letters and digits only, separated by single
spaces. SQLite's FTS5 and PostgreSQL's tsvector then agree on every token and
every position, so a search finds the same posts on either engine, and a
phrase is simply consecutive words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

# PostgreSQL keeps word positions up to 16383; past that a phrase cannot be
# placed, so neither engine is given more words than that.
MAX_WORDS = 16_383
# A longer "word" is a pasted blob, not something anyone types into a search.
MAX_WORD_CHARS = 100

_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """The searchable words of ``text``, in order."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return [w[:MAX_WORD_CHARS] for w in _WORD.findall(plain)][:MAX_WORDS]


def contains_phrase(document: Sequence[str], phrase: Sequence[str]) -> bool:
    """True when ``phrase`` occurs in ``document`` as consecutive words."""
    size = len(phrase)
    if size == 0:
        return False
    first = phrase[0]
    for start, word in enumerate(document):
        if word == first and tuple(document[start : start + size]) == tuple(phrase):
            return True
    return False
