"""Jobs the changes of a post leave for federation, kept apart from their
handlers (roost/domain/federation/interactions.py) so that the actions that
queue them (roost/domain/statuses/actions.py) import nothing else of
federation."""

from __future__ import annotations

from dataclasses import dataclass

from roost.jobs.registry import Job


@dataclass(frozen=True)
class SendLike(Job, kind="federation.like"):
    """Send Like (or, ``undo``, Undo of it) of the remote post ``status_id``
    by the local account ``account_id`` to the post's author. ``like_id``:
    the favourite's id, which names the Like (``…/users/NAME#likes/ID``)."""

    account_id: int
    status_id: int
    like_id: int
    undo: bool = False


@dataclass(frozen=True)
class SendPollVote(Job, kind="federation.poll_vote"):
    """Send the local account ``account_id``'s vote in the received poll
    ``poll_id`` (its ``choices``) to the poll's author."""

    account_id: int
    poll_id: int
    choices: list[int]


@dataclass(frozen=True)
class CacheRemoteMedia(Job, kind="federation.cache_media"):
    """Fetch the file of a received post's attachment ``media_id`` and keep
    it here (roost/domain/federation/attached.py)."""

    media_id: int
