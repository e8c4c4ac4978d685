"""The addresses of local actors and objects, as other servers know them
(Mastodon's scheme, so that links and mentions look the same)."""

from __future__ import annotations

from urllib.parse import urlsplit

from roost.config import Settings


def actor_uri(base: str, username: str) -> str:
    return f"{base}/users/{username}"


def status_uri(base: str, username: str, status_id: int) -> str:
    return f"{base}/users/{username}/statuses/{status_id}"


def instance_actor_uri(base: str) -> str:
    return f"{base}/actor"


def key_id(actor: str) -> str:
    return f"{actor}#main-key"


def peer_url_allowed(settings: Settings, url: str) -> bool:
    """Whether Roost may fetch from or post to ``url`` as a peer: https, or
    plain http in insecure mode (tests, labs)."""
    parts = urlsplit(url)
    if not parts.hostname or parts.username or parts.password:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and settings.federation_allow_insecure
