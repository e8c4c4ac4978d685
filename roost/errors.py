"""What can go wrong in the domain, independent of HTTP.

    RoostError
     ├── NotFound          the thing does not exist, or the viewer may not know it does
     ├── Unreadable        the request itself cannot be read (a broken body)
     ├── Invalid           the request asks for something a rule forbids
     │    └── RuleBroken       a record would break one of its own rules (a blank
     │         │               text, a name too long, a second pin too many)
     │         └── FieldsInvalid   ... several fields at once, each with its problems
     ├── Conflict          it collides with something that exists (a taken name)
     ├── Forbidden         the viewer is known but not allowed
     ├── Unauthorized      no valid credentials
     ├── RateLimited       slow down; ``retry_after`` says for how long
     └── Unavailable       a dependency is down; try again later
          └── StorageFull      the disk is full: nothing was written

Each says what went wrong in plain words (``message``), nothing of HTTP: the
API maps each kind to its status and to Mastodon's wording (roost/api/errors.py:
``{"error": ...}``, "Validation failed: " before a broken rule); the web pages
show the words; the CLI prints them and exits 1.

``RetryLater`` is no request's error: a background job's handler raises it when
a dependency is down (roost/jobs/runner.py says what the runner does then).
"""

from __future__ import annotations

from dataclasses import dataclass


class RoostError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(RoostError):
    def __init__(self, message: str = "Record not found") -> None:
        super().__init__(message)


class Unreadable(RoostError):
    """The request itself cannot be read: a body that is no valid form."""


class Invalid(RoostError):
    """The request asks for something a rule forbids."""


class RuleBroken(Invalid):
    """A record would break one of its rules; ``message`` names the rule, as
    in "Text can't be blank" (Mastodon reports these as a failed validation)."""


@dataclass(frozen=True)
class Problem:
    """One rule a field breaks. ``kind`` names the rule: blank, invalid,
    too_long, too_short, taken, reserved, accepted or blocked; ``description`` says it
    in words that follow the field's name ("is too long (maximum is 30
    characters)")."""

    kind: str
    description: str


class FieldsInvalid(RuleBroken):
    """Everything wrong with a form at once, field by field."""

    def __init__(self, problems: dict[str, list[Problem]]) -> None:
        said = ", ".join(
            f"{field.replace('_', ' ').capitalize()} {problem.description}"
            for field, found in problems.items()
            for problem in found
        )
        super().__init__(said)
        self.problems = problems


class Conflict(RoostError):
    """It collides with something that exists."""


class Forbidden(RoostError):
    """The viewer is known but not allowed."""


class Unauthorized(RoostError):
    def __init__(self, message: str = "The access token is invalid") -> None:
        super().__init__(message)


class RateLimited(RoostError):
    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(RoostError):
    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StorageFull(Unavailable):
    """The disk is full: nothing was written; the same request succeeds once
    space is freed."""

    def __init__(
        self,
        message: str = "The server's disk is full; nothing was saved. Try again later.",
        retry_after: int = 60,
    ) -> None:
        super().__init__(message, retry_after)


class RetryLater(Exception):
    """Raised by a job's handler when a dependency (Redis) is down, not the job itself.

    The runner puts the job back for a few seconds without counting the attempt:
    an outage longer than the whole backoff schedule must not park every job
    that arrived during it. Here, below every store, so that a store can say so
    without knowing about jobs.
    """

    def __init__(self, reason: str, delay_s: float = 5.0) -> None:
        super().__init__(reason)
        self.delay_s = delay_s
