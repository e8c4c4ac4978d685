"""Jobs the changes of a post leave for federation, kept apart from their
handlers (roost/domain/federation/interactions.py) so that the actions that
queue them (roost/domain/statuses/actions.py) import nothing else of
federation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from roost.clock import utcnow
from roost.jobs.registry import Job


def asked_again_at(tries: int) -> datetime:
    """When a fetch another server did not answer is tried again by a new
    job, after ``tries`` tries already: 3, 6, 12, 24 s on, past the host's
    own first pauses (hosts.py: 2 s, then 4 s)."""
    return utcnow() + timedelta(seconds=3 * 2**tries)


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
class SendBlock(Job, kind="federation.block"):
    """Send Block (or, ``undo``, Undo of it) of the remote account
    ``target_id`` by the local account ``account_id`` to the target's inbox.
    ``block_id``: the block's row id, which names the Block
    (``…/users/NAME#blocks/ID``); the Undo names the same."""

    account_id: int
    target_id: int
    block_id: int
    undo: bool = False


@dataclass(frozen=True)
class SendFlag(Job, kind="federation.flag"):
    """Forward the report ``report_id`` about an account of another server
    to that server, as a Flag from the instance actor."""

    report_id: int


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


@dataclass(frozen=True)
class FetchAncestors(Job, kind="federation.fetch_ancestors"):
    """Fetch the post ``parent_uri`` that the post ``status_id`` (another
    server's, stored here) replies to, store it and link the reply to it;
    ``depth`` ancestors may still be fetched above it, including this one
    (roost/domain/federation/threads.py)."""

    # It mostly waits on another server: run beside the other jobs.
    concurrent: ClassVar[bool] = True

    status_id: int
    parent_uri: str
    depth: int
    # Fetches tried already: a server that did not answer (or is backing
    # off) is asked again a few times, later, before the walk ends.
    tries: int = 0


@dataclass(frozen=True)
class FetchQuoted(Job, kind="federation.fetch_quoted"):
    """Fetch the post ``quoted_uri`` that the post ``status_id`` (another
    server's, stored here) quotes, store it when public or unlisted and
    make the pending quote accepted (roost/domain/federation/threads.py)."""

    concurrent: ClassVar[bool] = True

    status_id: int
    quoted_uri: str
    tries: int = 0


@dataclass(frozen=True)
class FetchReplies(Job, kind="federation.fetch_replies"):
    """Walk the ``replies`` collection of the post ``status_id`` (another
    server's, stored here), fetching and storing the public and unlisted
    replies not here, and theirs below them, within the replies limit and
    the thread depth (roost/domain/federation/replies.py)."""

    # It mostly waits on other servers: run beside the other jobs.
    concurrent: ClassVar[bool] = True

    status_id: int


@dataclass(frozen=True)
class VerifyQuote(Job, kind="federation.verify_quote"):
    """Fetch the ``QuoteAuthorization`` the post ``status_id`` (another
    server's, stored here) names for its quote of another server's post and
    make the pending quote accepted when it holds, rejected when it does not
    (roost/domain/federation/threads.py)."""

    concurrent: ClassVar[bool] = True

    status_id: int
    tries: int = 0


@dataclass(frozen=True)
class SendQuoteRevoked(Job, kind="federation.quote_revoked"):
    """Send ``Delete`` of the ``QuoteAuthorization`` of the quote
    ``quote_id`` (of a local post, by another server's post), revoked by
    the quoted post's author, to the quoting author and the quoted author's
    followers (roost/domain/federation/quote_requests.py)."""

    quote_id: int


@dataclass(frozen=True)
class LinkMentions(Job, kind="federation.link_mentions"):
    """Look up the accounts of other servers (``hrefs``, their actor ids)
    that the received post ``status_id`` mentions and that were not known
    here when it came, store them and link them to the post as its mentions
    (roost/domain/federation/mention_lookup.py)."""

    # It mostly waits on other servers: run beside the other jobs.
    concurrent: ClassVar[bool] = True

    status_id: int
    hrefs: list[str]
    # Lookups tried already: a server that did not answer is asked again,
    # later, a few times.
    tries: int = 0
