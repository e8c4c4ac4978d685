"""What can go wrong in the domain, independent of HTTP.

    RoostError
     ├── NotFound          the thing does not exist, or the viewer may not know it does
     ├── Invalid           the request names a limit or a rule it breaks (422)
     ├── Conflict          it collides with something that exists (a taken name)
     ├── Forbidden         the viewer is known but not allowed (403)
     ├── Unauthorized      no valid credentials (401)
     ├── RateLimited       slow down; ``retry_after`` says for how long (429)
     └── Unavailable       a dependency is down; try again later (503)

The API layer maps each to Mastodon's ``{"error": ...}`` with the right status;
the CLI prints the message and exits 1.
"""

from __future__ import annotations


class RoostError(Exception):
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(RoostError):
    status = 404

    def __init__(self, message: str = "Record not found") -> None:
        super().__init__(message)


class Invalid(RoostError):
    status = 422


class Conflict(RoostError):
    status = 422


class Forbidden(RoostError):
    status = 403


class Unauthorized(RoostError):
    status = 401

    def __init__(self, message: str = "The access token is invalid") -> None:
        super().__init__(message)


class RateLimited(RoostError):
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(RoostError):
    status = 503

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after
