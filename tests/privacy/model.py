"""A reference model of who may see what, written as plainly as possible.

It restates the rules of roost/domain/privacy.py (and the timeline filters of
roost/domain/timelines/quiet.py) over Python sets, so the state machine can compare
what the server answers with what the rules say. When the two disagree, one of
them is wrong; the model is short enough to check by eye.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PUBLIC, UNLISTED, PRIVATE, DIRECT = "public", "unlisted", "private", "direct"


@dataclass
class Post:
    id: str
    author: str
    visibility: str
    mentions: frozenset[str] = frozenset()
    reply_to: str | None = None
    reply_to_author: str | None = None
    reblog_of: str | None = None
    deleted: bool = False


@dataclass
class Model:
    """Accounts are named; ``None`` is the anonymous viewer."""

    locked: dict[str, bool] = field(default_factory=dict)
    admins: set[str] = field(default_factory=set)
    suspended: set[str] = field(default_factory=set)
    follows: set[tuple[str, str]] = field(default_factory=set)
    requests: set[tuple[str, str]] = field(default_factory=set)
    blocks: set[tuple[str, str]] = field(default_factory=set)
    mutes: dict[tuple[str, str], bool] = field(default_factory=dict)  # -> hides notifications
    posts: dict[str, Post] = field(default_factory=dict)
    bookmarks: dict[str, list[str]] = field(default_factory=dict)
    favourites: dict[str, list[str]] = field(default_factory=dict)

    # -- the graph ---------------------------------------------------------

    def blocked(self, one: str | None, other: str) -> bool:
        return one is not None and ((one, other) in self.blocks or (other, one) in self.blocks)

    def muted_by(self, viewer: str) -> set[str]:
        return {target for (muter, target) in self.mutes if muter == viewer}

    # -- the policy --------------------------------------------------------

    def _own_rules(self, viewer: str | None, post: Post, *, staff_sight: bool = True) -> bool:
        if post.author in self.suspended and not (staff_sight and viewer in self.admins):
            return False
        if self.blocked(viewer, post.author):
            return False
        if post.visibility in (PUBLIC, UNLISTED):
            return True
        if viewer is None:
            return False
        if viewer == post.author:
            return True
        if post.visibility == PRIVATE and (viewer, post.author) in self.follows:
            return True
        return viewer in post.mentions

    def visible(self, viewer: str | None, post_id: str, *, staff_sight: bool = True) -> bool:
        """``staff_sight``: whether staff see suspended accounts' posts here
        (everywhere but timelines, which are for reading, not moderating)."""
        post = self.posts[post_id]
        if post.deleted or not self._own_rules(viewer, post, staff_sight=staff_sight):
            return False
        if post.reblog_of is not None:
            original = self.posts[post.reblog_of]
            return not original.deleted and self._own_rules(
                viewer, original, staff_sight=staff_sight
            )
        return True

    def visible_ids(self, viewer: str | None, *, staff_sight: bool = True) -> set[str]:
        return {pid for pid in self.posts if self.visible(viewer, pid, staff_sight=staff_sight)}

    def account_visible(self, viewer: str | None, account: str) -> bool:
        return account not in self.suspended or viewer in self.admins

    def listed(self, viewer: str | None, account: str) -> bool:
        return self.account_visible(viewer, account) and not self.blocked(viewer, account)

    # -- timelines ---------------------------------------------------------

    def _newest(self, ids: set[str]) -> list[str]:
        return sorted(ids, key=int, reverse=True)

    def public(self, viewer: str | None) -> list[str]:
        muted = self.muted_by(viewer) if viewer else set()
        return self._newest(
            {
                pid
                for pid in self.visible_ids(viewer, staff_sight=False)
                if self.posts[pid].visibility == PUBLIC
                and self.posts[pid].reblog_of is None
                and self.posts[pid].author not in muted
            }
        )

    def home(self, viewer: str) -> list[str]:
        followed = {target for (who, target) in self.follows if who == viewer}
        muted = self.muted_by(viewer)
        quiet = muted | {a for a in self.locked if self.blocked(viewer, a)}
        shown = set()
        for pid in self.visible_ids(viewer, staff_sight=False):
            post = self.posts[pid]
            if post.author != viewer and post.author not in followed:
                continue
            if post.reply_to_author not in (None, viewer) and post.reply_to_author not in followed:
                continue
            if post.author != viewer:
                if post.author in muted or post.reply_to_author in quiet:
                    continue
                if post.reblog_of is not None and self.posts[post.reblog_of].author in quiet:
                    continue
                if post.mentions & quiet:
                    continue
            shown.add(pid)
        return self._newest(shown)

    def profile(self, viewer: str | None, account: str) -> list[str]:
        return self._newest(
            {pid for pid in self.visible_ids(viewer) if self.posts[pid].author == account}
        )

    def direct(self, viewer: str) -> list[str]:
        return self._newest(
            {
                pid
                for pid in self.visible_ids(viewer)
                if self.posts[pid].visibility == DIRECT
                and (self.posts[pid].author == viewer or viewer in self.posts[pid].mentions)
            }
        )

    def saved(self, viewer: str, kind: str) -> list[str]:
        chosen = self.bookmarks if kind == "bookmarks" else self.favourites
        return [pid for pid in reversed(chosen.get(viewer, [])) if self.visible(viewer, pid)]

    def notification_allowed(self, viewer: str, sender: str, post_id: str | None) -> bool:
        if not self.listed(viewer, sender):
            return False
        if self.mutes.get((viewer, sender)):
            return False
        return post_id is None or self.visible(viewer, post_id)
