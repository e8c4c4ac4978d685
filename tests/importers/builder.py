"""Synthetic Twitter archives, written the way Twitter writes them.

``ArchiveBuilder`` collects an account's data (tweets with every kind of
entity, long posts, edits, likes, lists, messages, media) and writes it as a
folder or a zip, in the 2022+ layout (``data/tweets.js`` with
``{"tweet": {...}}`` entries, optionally split in parts and described by
``data/manifest.js``) or the 2019 one (``tweet.js`` at the top, bare tweet
objects). ``bad_zip_*`` make the hostile or broken files an import must refuse.
"""

from __future__ import annotations

import io
import itertools
import json
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image

TWITTER_EPOCH_MS = 1288834974657
_sequence = itertools.count(1)


def snowflake(moment: datetime) -> int:
    """A tweet id as Twitter makes them: the time, then a per-id sequence."""
    ms = int(moment.timestamp() * 1000) - TWITTER_EPOCH_MS
    return (ms << 22) | (next(_sequence) % 4096)


def classic_date(moment: datetime) -> str:
    """'Sat Feb 18 19:45:15 +0000 2023', written without the locale."""
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    m = moment.astimezone(UTC)
    return (
        f"{days[m.weekday()]} {months[m.month - 1]} {m.day:02d} "
        f"{m.hour:02d}:{m.minute:02d}:{m.second:02d} +0000 {m.year}"
    )


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def png(colour: tuple[int, int, int] = (200, 40, 40), size: tuple[int, int] = (32, 24)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def ytd(name: str, part: int, entries: list[Any]) -> str:
    body = json.dumps(entries, indent=2, separators=(",", " : "), ensure_ascii=False)
    return f"window.YTD.{name}.part{part} = {body}"


@dataclass
class ArchiveBuilder:
    username: str = "alice"
    account_id: int = 1000001
    display_name: str = "Alice \U0001f426"
    bio: str = "Writes about birds. More: https://t.co/bio0000001"
    website: str = "https://t.co/web0000001"
    layout: str = "2022"  # or "2019"
    parts: int = 1
    manifest: bool = False
    start: datetime = datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)
    tweets: list[dict[str, Any]] = field(default_factory=list)
    circle: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    likes: list[dict[str, Any]] = field(default_factory=list)
    relations: dict[str, list[int]] = field(default_factory=dict)
    conversations: list[dict[str, Any]] = field(default_factory=list)
    media_files: dict[str, bytes] = field(default_factory=dict)
    profile_media: dict[str, bytes] = field(default_factory=dict)
    with_account: bool = True
    _clock: int = 0
    _moments: dict[str, datetime] = field(default_factory=dict)

    def next_moment(self) -> datetime:
        self._clock += 1
        return self.start + timedelta(hours=self._clock, seconds=self._clock % 60)

    # --- tweets ------------------------------------------------------------

    def tweet(
        self,
        text: str,
        *,
        moment: datetime | None = None,
        tweet_id: int | None = None,
        reply_to: int | None = None,
        reply_to_user: tuple[int, str] | None = None,
        urls: dict[str, str] | None = None,
        media: list[tuple[str, str]] | None = None,
        edit_ids: list[int] | None = None,
        initial_id: int | None = None,
        lang: str = "en",
        into: str = "tweets",
    ) -> dict[str, Any]:
        """Add a tweet; ``media`` is (t.co link, file name stem) per picture."""
        moment = moment or self.next_moment()
        tweet_id = tweet_id or snowflake(moment)
        entities: dict[str, Any] = {
            "hashtags": [],
            "symbols": [],
            "user_mentions": [],
            "urls": [
                {
                    "url": short,
                    "expanded_url": expanded,
                    "display_url": expanded.split("://", 1)[-1][:24],
                    "indices": ["0", "23"],
                }
                for short, expanded in (urls or {}).items()
            ],
        }
        body: dict[str, Any] = {
            "edit_info": self._edit_info(tweet_id, edit_ids, initial_id),
            "retweeted": False,
            "source": '<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>',
            "entities": entities,
            "display_text_range": ["0", str(len(text))],
            "favorite_count": "3",
            "id_str": str(tweet_id),
            "truncated": False,
            "retweet_count": "1",
            "id": str(tweet_id),
            "created_at": classic_date(moment),
            "favorited": False,
            "full_text": text,
            "lang": lang,
        }
        if reply_to is not None:
            user_id, name = reply_to_user or (self.account_id, self.username)
            body.update(
                in_reply_to_status_id_str=str(reply_to),
                in_reply_to_status_id=str(reply_to),
                in_reply_to_user_id_str=str(user_id),
                in_reply_to_user_id=str(user_id),
                in_reply_to_screen_name=name,
            )
        if media:
            items = [self._media_entity(tweet_id, short, stem) for short, stem in media]
            entities["media"] = items[:1]
            body["extended_entities"] = {"media": items}
            body["possibly_sensitive"] = False
        getattr(self, into).append(body)
        self._moments[body["id_str"]] = moment
        return body

    def _edit_info(
        self, tweet_id: int, edit_ids: list[int] | None, initial_id: int | None
    ) -> dict[str, Any]:
        control = {
            "editTweetIds": [str(i) for i in (edit_ids or [tweet_id])],
            "editableUntil": "2023-01-01T00:00:00.000Z",
            "editsRemaining": "5",
            "isEditEligible": True,
        }
        if initial_id is not None and initial_id != tweet_id:
            return {"edit": {"initialTweetId": str(initial_id), "editControlInitial": control}}
        return {"initial": control}

    def _media_entity(self, tweet_id: int, short: str, stem: str) -> dict[str, Any]:
        return {
            "expanded_url": f"https://twitter.com/{self.username}/status/{tweet_id}/photo/1",
            "indices": ["100", "123"],
            "url": short,
            "media_url": f"http://pbs.twimg.com/media/{stem}.png",
            "media_url_https": f"https://pbs.twimg.com/media/{stem}.png",
            "id_str": str(tweet_id + 1),
            "id": str(tweet_id + 1),
            "type": "photo",
            "display_url": "pic.twitter.com/" + stem,
            "sizes": {"large": {"w": "32", "h": "24", "resize": "fit"}},
        }

    def add_media_file(self, tweet: dict[str, Any], stem: str, data: bytes) -> None:
        self.media_files[f"{tweet['id_str']}-{stem}.png"] = data

    def note(self, tweet: dict[str, Any], text: str, urls: dict[str, str] | None = None) -> None:
        """The whole text of a long post, as note-tweet.js holds it."""
        moment = self._moments[tweet["id_str"]]
        self.notes.append(
            {
                "noteTweet": {
                    "noteTweetId": str(int(tweet["id_str"]) + 7),
                    "updatedAt": iso(moment),
                    "lifecycle": {"value": "1", "name": "Published", "originalName": "Published"},
                    "createdAt": iso(moment),
                    "core": {
                        "styletags": [],
                        "urls": [
                            {"shortUrl": s, "expandedUrl": e, "displayUrl": e[:20]}
                            for s, e in (urls or {}).items()
                        ],
                        "text": text,
                        "mentions": [],
                        "cashtags": [],
                        "hashtags": [],
                    },
                }
            }
        )

    def like(self, tweet_id: int, text: str) -> None:
        self.likes.append(
            {
                "like": {
                    "tweetId": str(tweet_id),
                    "fullText": text,
                    "expandedUrl": f"https://twitter.com/i/web/status/{tweet_id}",
                }
            }
        )

    def message(
        self, conversation: str, sender: int, recipient: int | None, text: str, at: datetime
    ) -> int:
        message_id = snowflake(at)
        create: dict[str, Any] = {
            "reactions": [],
            "urls": [],
            "text": text,
            "mediaUrls": [],
            "senderId": str(sender),
            "id": str(message_id),
            "createdAt": iso(at),
        }
        if recipient is not None:
            create["recipientId"] = str(recipient)
        found = next(
            (
                c
                for c in self.conversations
                if c["dmConversation"]["conversationId"] == conversation
            ),
            None,
        )
        if found is None:
            found = {"dmConversation": {"conversationId": conversation, "messages": []}}
            self.conversations.append(found)
        found["dmConversation"]["messages"].append({"messageCreate": create})
        return message_id

    # --- writing -----------------------------------------------------------

    def files(self) -> dict[str, bytes]:
        """Every file of the archive by its path inside it."""
        data = "data/" if self.layout == "2022" else ""
        out: dict[str, str | bytes] = {}
        out["Your archive.html"] = "<html></html>"
        if self.with_account:
            out[f"{data}account.js"] = ytd("account", 0, [self._account()])
        out[f"{data}profile.js"] = ytd("profile", 0, [self._profile()])
        tweet_name = "tweets" if self.layout == "2022" else "tweet"
        wrap = (lambda t: {"tweet": t}) if self.layout == "2022" else (lambda t: t)
        # Newest first, as Twitter writes them: replies come before their parents.
        newest_first = list(reversed(self.tweets))
        chunks = [newest_first[i :: self.parts] for i in range(self.parts)]
        for index, chunk in enumerate(chunks):
            name = f"{tweet_name}.js" if index == 0 else f"{tweet_name}-part{index}.js"
            out[f"{data}{name}"] = ytd(tweet_name, index, [wrap(t) for t in chunk])
        if self.circle:
            out[f"{data}twitter-circle-tweet.js"] = ytd(
                "twitter_circle_tweet", 0, [{"tweet": t} for t in self.circle]
            )
        if self.deleted:
            out[f"{data}deleted-tweets.js"] = ytd(
                "deleted_tweets", 0, [{"tweet": t} for t in self.deleted]
            )
        if self.notes:
            out[f"{data}note-tweet.js"] = ytd("note_tweet", 0, self.notes)
        if self.likes:
            out[f"{data}like.js"] = ytd("like", 0, self.likes)
        wrappers = {"follower": "follower", "following": "following", "block": "blocking"}
        wrappers["mute"] = "muting"
        for kind, ids in self.relations.items():
            entries = [
                {wrappers[kind]: {"accountId": str(i), "userLink": f"https://x/{i}"}} for i in ids
            ]
            out[f"{data}{kind}.js"] = ytd(kind, 0, entries)
        if self.conversations:
            out[f"{data}direct-messages.js"] = ytd("direct_messages", 0, self.conversations)
        media_folder = "tweets_media" if self.layout == "2022" else "tweet_media"
        for name, blob in self.media_files.items():
            out[f"{data}{media_folder}/{name}"] = blob
        for name, blob in self.profile_media.items():
            out[f"{data}profile_media/{name}"] = blob
        if self.manifest:
            out[f"{data}manifest.js"] = self._manifest(sorted(out))
        return {k: v.encode() if isinstance(v, str) else v for k, v in out.items()}

    def _account(self) -> dict[str, Any]:
        return {
            "account": {
                "email": f"{self.username}@example.org",
                "createdVia": "web",
                "username": self.username,
                "accountId": str(self.account_id),
                "createdAt": "2011-06-23T13:04:14.000Z",
                "accountDisplayName": self.display_name,
            }
        }

    def _profile(self) -> dict[str, Any]:
        return {
            "profile": {
                "description": {"bio": self.bio, "website": self.website, "location": "Here"},
                "avatarMediaUrl": "https://pbs.twimg.com/profile_images/1/AVATAR01.png",
                "headerMediaUrl": f"https://pbs.twimg.com/profile_banners/{self.account_id}/777",
            }
        }

    def _manifest(self, names: list[str]) -> str:
        kinds = {
            "account": "account",
            "profile": "profile",
            "tweets": "tweets",
            "tweets-part": "tweets",
            "note-tweet": "noteTweet",
            "like": "like",
            "follower": "follower",
            "following": "following",
            "block": "block",
            "mute": "mute",
            "direct-messages": "directMessages",
            "twitter-circle-tweet": "twitterCircleTweet",
            "deleted-tweets": "deletedTweets",
        }
        data_types: dict[str, Any] = {}
        for name in names:
            if not name.startswith("data/") or not name.endswith(".js") or "/" in name[5:]:
                continue
            stem = name[5:-3]
            key = kinds.get(stem.split("-part")[0] if "-part" in stem else stem)
            if key is None:
                continue
            data_types.setdefault(key, {"files": []})["files"].append(
                {"fileName": name, "globalName": f"YTD.{stem}.part0", "count": "1"}
            )
        data_types.setdefault("tweets", {"files": []})["mediaDirectory"] = "data/tweets_media"
        config = {
            "userInfo": {
                "accountId": str(self.account_id),
                "userName": self.username,
                "displayName": self.display_name,
            },
            "archiveInfo": {"sizeBytes": "1", "generationDate": "2023-01-01T00:00:00.000Z"},
            "dataTypes": data_types,
        }
        return "window.__THAR_CONFIG = " + json.dumps(config, indent=2)

    def write_folder(self, root: Path) -> Path:
        for name, blob in self.files().items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(blob)
        return root

    def write_zip(self, path: Path, prefix: str = "") -> Path:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, blob in self.files().items():
                archive.writestr(prefix + name, blob)
        return path


# --- hostile and broken files ----------------------------------------------


def bad_zip_traversal(path: Path, builder: ArchiveBuilder) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, blob in builder.files().items():
            archive.writestr(name, blob)
        archive.writestr("../../escaped.txt", b"out of the folder")
    return path


def bad_zip_bomb(path: Path, builder: ArchiveBuilder, size: int = 64 << 20) -> Path:
    """One entry of zeros that packs about a thousand times smaller."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, blob in builder.files().items():
            archive.writestr(name, blob)
        with archive.open("data/tweets_media/1-zeros.png", "w") as entry:
            chunk = bytes(1 << 20)
            for _ in range(size >> 20):
                entry.write(chunk)
    return path


def bad_zip_corrupt(path: Path, builder: ArchiveBuilder) -> Path:
    """A real zip whose tweets.js bytes were damaged after it was written."""
    builder.write_zip(path)
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("data/tweets.js")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for offset in range(start + 10, start + min(info.compress_size, 200) - 5):
        raw[offset] ^= 0x5A
    path.write_bytes(bytes(raw))
    return path


def bad_zip_truncated(path: Path, builder: ArchiveBuilder) -> Path:
    builder.write_zip(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return path
