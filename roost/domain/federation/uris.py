"""The addresses of local actors and objects, as other servers know them
(Mastodon's scheme, so that links and mentions look the same)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from roost.config import Settings

# The JSON-LD context every activity Roost sends names.
AS_CONTEXT = "https://www.w3.org/ns/activitystreams"


def id_of(value: Any) -> str | None:
    """The id of an ActivityStreams reference: a bare id, or an object with
    an ``id``; None for anything else."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


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
