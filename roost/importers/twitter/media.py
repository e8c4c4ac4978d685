"""The pictures and videos of an archive, through the media domain's own
upload path (roost/domain/media): checked, cleaned and stored exactly as an
upload from an app is, never processed here.

A tweet's media file is ``tweets_media/<tweet id>-<name>``; one the archive
lacks (Twitter leaves out what it could not export, and a trimmed archive
has none) leaves the post without it and is listed in the report, as is one
the media checks refuse.
"""

from __future__ import annotations

import logging
import posixpath

from roost.config import Settings
from roost.db.engine import Database, Tx
from roost.domain.media.actions import (
    MAX_ATTACHMENTS,
    create_media,
    do_attach_media,
    set_profile_image,
)
from roost.domain.types import Viewer
from roost.errors import Invalid, RoostError
from roost.importers.twitter.archive import Archive
from roost.importers.twitter.layout import Layout
from roost.importers.twitter.report import Report
from roost.importers.twitter.tweets import Tweet
from roost.media.store import MediaStore, media_store

log = logging.getLogger("roost.importers")


class MediaImporter:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        archive: Archive,
        layout: Layout,
        account_id: int,
        report: Report,
        store: MediaStore | None = None,
    ) -> None:
        self._db = db
        self._settings = settings
        self._archive = archive
        self._layout = layout
        self._viewer = Viewer(account_id=account_id)
        self._report = report
        self._store = store or media_store(settings)

    async def upload(self, tweet: Tweet) -> list[int]:
        """Upload the tweet's media found in the archive; returns their ids in order."""
        media_ids: list[int] = []
        for media in tweet.media[:MAX_ATTACHMENTS]:
            name = next(
                (self._layout.media[n] for n in media.file_names if n in self._layout.media), None
            )
            if name is None:
                shown = media.file_names[0] if media.file_names else f"{tweet.id}-{media.kind}"
                self._report.skip("media", "file not in the archive")
                self._report.media_missing(f"tweets_media/{shown}")
                continue
            try:
                with self._archive.open(name) as source:
                    media_id = await create_media(
                        self._db,
                        self._store,
                        self._settings,
                        self._viewer,
                        source,
                        self._archive.size(name),
                        description=None,
                        focus=None,
                        process_later=False,
                        origin="import",
                    )
            except Invalid as refused:
                self._report.add("media", "failed")
                self._report.note(f"{posixpath.basename(name)}: {refused.message}")
                continue
            media_ids.append(media_id)
        return media_ids

    async def attach(self, tx: Tx, status_id: int, media_ids: list[int]) -> None:
        if not media_ids:
            return
        try:
            await do_attach_media(tx, self._viewer.account_id or 0, status_id, media_ids)
        except Invalid as refused:
            # Checked before anything is written: the post goes on without them.
            self._report.add("media", "failed", len(media_ids))
            self._report.note(refused.message)
            return
        self._report.add("media", "imported", len(media_ids))

    async def profile_image(self, role: str, url: str | None, twitter_id: int | None) -> bool:
        """Set the avatar or header from profile_media/; False when the archive
        has no such file or the image is refused."""
        if not url or twitter_id is None or "default_profile" in url:
            return False
        stem = f"{twitter_id}-{url.rstrip('/').rsplit('/', 1)[-1]}"
        name = next(
            (
                n
                for n in self._layout.profile_media
                if posixpath.basename(n) == stem or posixpath.basename(n).startswith(stem + ".")
            ),
            None,
        )
        if name is None:
            self._report.media_missing(f"profile_media/{stem}")
            return False
        try:
            with self._archive.open(name) as source:
                await set_profile_image(
                    self._db,
                    self._store,
                    self._settings,
                    self._viewer.account_id or 0,
                    role,
                    source,
                    self._archive.size(name),
                )
        except RoostError as refused:
            self._report.note(f"{posixpath.basename(name)}: {refused.message}")
            return False
        return True
