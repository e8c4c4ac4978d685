"""The first pass over an archive: read all of it before writing anything.

Every file the import will use is read through once, so a damaged zip entry,
broken JSON or a missing ``account.js`` is found before the first post is
written ("nothing half-imported"). What the second pass needs to know in
advance is kept, and nothing more: the ids of the owner's tweets (replies and
quote links to tweets later in the files), the newest version of each edited
tweet, the Twitter Circle tweets, the long texts of note-tweet.js, and the
expansions of the t.co links in the profile.

This is blocking file work; callers run it in a thread.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from roost.importers.twitter.archive import Archive, ArchiveRefused, SingleFile
from roost.importers.twitter.layout import RELATION_KINDS, Layout
from roost.importers.twitter.mapping import Owner
from roost.importers.twitter.notes import NoteIndex
from roost.importers.twitter.parse import conversation_messages, read_ytd
from roost.importers.twitter.records import is_message
from roost.importers.twitter.tweets import identify, short_links

_TCO = re.compile(r"https?://t\.co/[A-Za-z0-9]+")
_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, OSError)


@dataclass
class Profile:
    display_name: str | None = None
    bio: str = ""
    website: str = ""
    avatar_url: str | None = None
    header_url: str | None = None


@dataclass
class Scan:
    owner: Owner
    profile: Profile
    fingerprint: str
    own_ids: set[int] = field(default_factory=set)
    circle_ids: set[int] = field(default_factory=set)
    # Circle tweets that tweets.js holds too: the circle file's copy is not new.
    circle_in_tweets: set[int] = field(default_factory=set)
    newest_version: dict[int, int] = field(default_factory=dict)  # edit group -> newest id
    notes: NoteIndex = field(default_factory=NoteIndex)
    expansions: dict[str, str] = field(default_factory=dict)  # profile t.co -> URL
    totals: dict[str, int] = field(default_factory=dict)


def elements(archive: Archive, name: str) -> Iterator[Any]:
    """The entries of one archive file; ArchiveRefused when it cannot be read."""
    try:
        with archive.open(name) as stream:
            yield from read_ytd(stream, name)
    except _DAMAGED as error:
        raise _damaged(archive, name, error) from None


def messages(archive: Archive, name: str) -> Iterator[tuple[str, Any]]:
    try:
        with archive.open(name) as stream:
            yield from conversation_messages(stream, name)
    except _DAMAGED as error:
        raise _damaged(archive, name, error) from None


def _damaged(archive: Archive, name: str, error: BaseException) -> ArchiveRefused:
    return ArchiveRefused(
        f"{name} cannot be read from {archive.label}, the archive is damaged ({error}); "
        "download it again"
    )


def _owner(archive: Archive, layout: Layout) -> tuple[Owner, str | None]:
    name = layout.account
    if name is None:
        if isinstance(archive, SingleFile):
            return Owner(None, None), None
        raise ArchiveRefused(
            f"{archive.label} has no account.js, so it is not a whole Twitter archive; "
            "give the complete archive zip or folder"
        )
    for element in elements(archive, name):
        account = element.get("account") if isinstance(element, dict) else None
        if isinstance(account, dict) and account.get("accountId"):
            try:
                twitter_id = int(account["accountId"])
            except (TypeError, ValueError):
                break
            display = account.get("accountDisplayName")
            return Owner(twitter_id, account.get("username") or None), (
                display if isinstance(display, str) else None
            )
    raise ArchiveRefused(f"{name} in {archive.label} does not name the account; it is damaged")


def _profile(archive: Archive, layout: Layout, display_name: str | None) -> Profile:
    profile = Profile(display_name=display_name)
    for name in layout.of("profile"):
        for element in elements(archive, name):
            inner = element.get("profile") if isinstance(element, dict) else None
            if not isinstance(inner, dict):
                continue
            description = inner.get("description") or {}
            profile.bio = str(description.get("bio") or "")
            profile.website = str(description.get("website") or "")
            profile.avatar_url = inner.get("avatarMediaUrl") or None
            profile.header_url = inner.get("headerMediaUrl") or None
    return profile


def scan(archive: Archive, layout: Layout, *, include_dms: bool) -> Scan:
    owner, display_name = _owner(archive, layout)
    profile = _profile(archive, layout, display_name)
    result = Scan(owner=owner, profile=profile, fingerprint=archive.fingerprint())
    wanted_links = set(_TCO.findall(f"{profile.bio} {profile.website}"))
    for name in layout.of("notes"):
        for element in elements(archive, name):
            result.notes.add(element)
    posts = 0
    for kind in ("circle", "tweets"):
        for name in layout.of(kind):
            for element in elements(archive, name):
                posts += 1
                found = identify(element)
                if found is None:
                    continue  # counted as failed by the second pass
                tweet_id, versions = found
                result.own_ids.add(tweet_id)
                if kind == "circle":
                    result.circle_ids.add(tweet_id)
                elif tweet_id in result.circle_ids:
                    result.circle_in_tweets.add(tweet_id)
                if len(versions) > 1:
                    group = versions[0]
                    result.newest_version[group] = max(
                        result.newest_version.get(group, 0), tweet_id
                    )
                if wanted_links:
                    for short, expanded in short_links(element):
                        if short in wanted_links:
                            result.expansions[short] = expanded
    result.totals["posts"] = posts
    result.totals["likes"] = sum(1 for n in layout.of("likes") for _ in elements(archive, n))
    for kind in RELATION_KINDS:
        result.totals[kind] = sum(1 for n in layout.of(kind) for _ in elements(archive, n))
    if include_dms:
        result.totals["dms"] = sum(
            1 for n in layout.of("dms") for _c, event in messages(archive, n) if is_message(event)
        )
    return result
