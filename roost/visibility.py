"""Who a post is addressed to, as the ``statuses.visibility`` column stores it.

Below the domain because the stores that index posts (roost/search/) file a
post by it; what each audience may see is roost/domain/privacy.py's rule.
"""

from __future__ import annotations

from enum import IntEnum


class Visibility(IntEnum):
    PUBLIC = 0
    UNLISTED = 1
    PRIVATE = 2  # followers only
    DIRECT = 3  # mentioned accounts only

    @classmethod
    def parse(cls, name: str) -> Visibility:
        try:
            return _VISIBILITY_NAMES[name]
        except KeyError:
            raise ValueError(f"unknown visibility {name!r}") from None

    @property
    def label(self) -> str:
        return self.name.lower()

    @property
    def listed(self) -> bool:
        """Shown to everyone who asks (public or unlisted): the one spelling of
        that rule; its SQL form is ``roost.domain.privacy.listed``."""
        return self in LISTED


_VISIBILITY_NAMES = {v.name.lower(): v for v in Visibility}

# Public or unlisted: anyone may read the post, signed in or not.
LISTED = frozenset({Visibility.PUBLIC, Visibility.UNLISTED})
