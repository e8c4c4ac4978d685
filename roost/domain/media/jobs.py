"""The jobs uploads leave in the outbox (their handlers: handlers.py):
finishing video and audio, removing uploads that no post took, and the files
of media deleted with their post."""

from __future__ import annotations

from dataclasses import dataclass

from roost.jobs.registry import Job


@dataclass(frozen=True)
class ProcessMedia(Job, kind="media.process"):
    """Finish a video or audio upload (transcode, preview, metadata)."""

    media_id: int


@dataclass(frozen=True)
class SweepMedia(Job, kind="media.sweep"):
    """Remove uploads that no post took before they expired."""


@dataclass(frozen=True)
class DiscardMediaFiles(Job, kind="media.discard"):
    """Remove the files of media deleted with their post (``delete_media``)."""

    keys: list[str]
