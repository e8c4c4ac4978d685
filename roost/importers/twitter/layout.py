"""Where each kind of data sits in an archive.

``data/manifest.js`` names every file and part when it is there (archives
from 2020 on). Without it the files are found by name: ``tweets.js`` (2022
on), ``tweet.js`` (2019 to 2021, at the top of the archive in 2019) and every
``tweets-part<N>.js``, and likewise for likes, followers and the rest.
``deleted-tweets.js`` is never read.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from roost.importers.twitter.archive import Archive, ArchiveRefused
from roost.importers.twitter.parse import read_manifest

# Kind -> the manifest's dataTypes keys and the file stems used without one.
_KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "account": (("account",), ("account",)),
    "profile": (("profile",), ("profile",)),
    "tweets": (("tweets", "tweet"), ("tweets", "tweet")),
    "circle": (("twitterCircleTweet",), ("twitter-circle-tweet",)),
    "notes": (("noteTweet",), ("note-tweet",)),
    "likes": (("like",), ("like",)),
    "follower": (("follower",), ("follower",)),
    "following": (("following",), ("following",)),
    "block": (("block",), ("block",)),
    "mute": (("mute",), ("mute",)),
    "dms": (
        ("directMessages", "directMessagesGroup"),
        ("direct-messages", "direct-messages-group"),
    ),
}
RELATION_KINDS = ("follower", "following", "block", "mute")
_MEDIA_FOLDERS = ("tweets_media", "tweet_media", "twitter_circle_tweet_media")
_PART = re.compile(r"^(?P<stem>[a-z-]+?)(?:-part(?P<part>\d+))?\.js$")


@dataclass
class Layout:
    files: dict[str, list[str]]
    # Media file name (``<tweet id>-<name>``) -> its path in the archive.
    media: dict[str, str] = field(default_factory=dict)
    profile_media: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # named by the manifest, absent
    manifest: bool = False

    def of(self, kind: str) -> list[str]:
        return self.files.get(kind, [])

    @property
    def account(self) -> str | None:
        found = self.of("account")
        return found[0] if found else None


def _shortest(names: list[str]) -> str | None:
    return min(names, key=lambda n: (n.count("/"), n)) if names else None


def _describe_old(names: list[str]) -> str | None:
    if any(posixpath.basename(n) == "tweets.csv" for n in names):
        return "tweets.csv"
    if any("/js/tweets/" in f"/{n}" for n in names):
        return "data/js/tweets/"
    return None


def find_layout(archive: Archive) -> Layout:
    """The archive's files by kind; ArchiveRefused when it is no archive Roost reads."""
    names = archive.names()
    manifest = _shortest([n for n in names if posixpath.basename(n) == "manifest.js"])
    account = _shortest([n for n in names if posixpath.basename(n) == "account.js"])
    anchor = manifest or account
    if anchor is None:
        tweets = _shortest([n for n in names if _stem(n) in {"tweets", "tweet"}])
        if tweets is None:
            old = _describe_old(names)
            if old is not None:
                raise ArchiveRefused(
                    f"Unsupported archive format: {archive.label} has {old}, the layout of "
                    "Twitter archives from before 2019; request a new archive and import that"
                )
            shown = ", ".join(sorted(names)[:5]) or "nothing"
            raise ArchiveRefused(
                f"Unsupported archive format: {archive.label} has no tweets.js, tweet.js or "
                f"account.js (found {shown})"
            )
        anchor = tweets
    data_dir = posixpath.dirname(anchor)
    present = set(names)
    if manifest is not None:
        layout = _from_manifest(archive, manifest, data_dir, present)
    else:
        layout = _by_name(names, data_dir)
    _index_media(layout, names, data_dir)
    return layout


def _stem(name: str) -> str | None:
    match = _PART.match(posixpath.basename(name))
    return match.group("stem") if match else None


def _part(name: str) -> int:
    match = _PART.match(posixpath.basename(name))
    return int(match.group("part") or 0) if match else 0


def _by_name(names: list[str], data_dir: str) -> Layout:
    files: dict[str, list[str]] = {}
    here = [n for n in names if posixpath.dirname(n) == data_dir]
    for kind, (_keys, stems) in _KINDS.items():
        found: list[str] = []
        for stem in stems:
            # tweets.js and tweet.js never both hold tweets; the newer wins.
            matches = sorted((n for n in here if _stem(n) == stem), key=_part)
            if matches and kind == "tweets" and found:
                continue
            found.extend(matches)
        if found:
            files[kind] = found
    return Layout(files=files)


def _from_manifest(archive: Archive, manifest: str, data_dir: str, present: set[str]) -> Layout:
    with archive.open(manifest) as stream:
        config = read_manifest(stream, manifest)
    data_types = config.get("dataTypes")
    if not isinstance(data_types, dict):
        raise ArchiveRefused(f"{manifest} has no dataTypes; the archive is damaged")
    # The manifest names files from the archive's top ("data/tweets.js").
    root = posixpath.dirname(data_dir) if posixpath.basename(data_dir) == "data" else data_dir
    layout = Layout(files={}, manifest=True)
    for kind, (keys, _stems) in _KINDS.items():
        for key in keys:
            entry = data_types.get(key)
            if not isinstance(entry, dict):
                continue
            for item in entry.get("files") or []:
                file_name = item.get("fileName") if isinstance(item, dict) else None
                if not isinstance(file_name, str):
                    continue
                path = posixpath.normpath(posixpath.join(root, file_name))
                if path in present:
                    layout.files.setdefault(kind, []).append(path)
                else:
                    layout.missing.append(file_name)
    for kind in layout.files:
        layout.files[kind].sort(key=lambda n: (_stem(n) or "", _part(n)))
    return layout


def _index_media(layout: Layout, names: list[str], data_dir: str) -> None:
    folders = {posixpath.join(data_dir, f) for f in _MEDIA_FOLDERS}
    profile_folder = posixpath.join(data_dir, "profile_media")
    for name in names:
        folder = posixpath.dirname(name)
        if folder in folders:
            layout.media.setdefault(posixpath.basename(name), name)
        elif folder == profile_folder:
            layout.profile_media.append(name)
