"""The URLs apps are given for media files, and why some of them are signed.

Every file is served by Roost itself (roost/api/media_files.py), which looks up
the attachment, its post, and asks the privacy policy whether the viewer may
see that post. A file of a post the viewer may not see answers 404, exactly
like the post, whoever knows the URL.

The difficulty: Mastodon apps load images and videos with a plain GET, without
the Authorization header they use for the API. For media of public and
unlisted posts that is fine, since anonymous viewers may see those posts, so
their URLs are plain, the same for everyone, and cacheable. Media of
followers-only and direct posts (and an upload not yet attached to a post,
which only its uploader may see) would then be invisible to the very people
allowed to see it.

So those URLs carry a capability: the id of the viewer they were issued to,
an expiry, and an HMAC-SHA256 over both and the attachment id, keyed from
``ROOST_SECRET_KEY``. When such a URL is fetched, Roost checks the signature,
then asks the policy again *as that viewer*: a URL stops working the moment
its viewer loses access (unfollowed, blocked, post deleted), not only when it
expires. A signature is bound to one attachment and one viewer; a forged or
altered one answers 404.

What this does not stop: a viewer who may see the post can pass the URL on,
and until it expires (7 to 8 days; the expiry is rounded to whole days so an
app's image cache sees the same URL all day) whoever holds it sees that one
file, as the viewer could have passed on a screenshot. A request that does
carry a bearer token is judged as that token's account instead.

Consequence for caches: status JSON stays viewer-independent for public and
unlisted posts only; for other posts the media URLs are per viewer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

_DAY = 86_400
_LIFETIME_DAYS = 7
_SIGNATURE_CHARS = 22  # 132 bits of the HMAC


class _Keys:
    signing: bytes | None = None


def configure(secret_key: str) -> None:
    """Derive the URL-signing key from the installation's secret (at app start)."""
    _Keys.signing = hmac.new(secret_key.encode(), b"roost media urls v1", hashlib.sha256).digest()


def _key() -> bytes:
    if _Keys.signing is None:
        raise RuntimeError("media URLs are signed with the secret key: call configure() first")
    return _Keys.signing


def _signature(attachment_id: int, viewer_id: int, expires: int) -> str:
    message = f"{attachment_id}.{viewer_id}.{expires}".encode()
    digest = hmac.new(_key(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:_SIGNATURE_CHARS]


def expiry(now: float | None = None) -> int:
    current = int(time.time() if now is None else now)
    return (current // _DAY + _LIFETIME_DAYS + 1) * _DAY


def attachment_url(
    base: str,
    attachment_id: int,
    variant: str,
    name: str,
    *,
    signed_for: int | None = None,
    now: float | None = None,
) -> str:
    """The URL of one rendition (``original`` or ``small``) of an attachment.

    ``signed_for``: the viewer a capability is issued to (None: a plain URL,
    for media of public and unlisted posts).
    """
    url = f"{base}/media/{attachment_id}/{variant}/{name}"
    if signed_for is None:
        return url
    expires = expiry(now)
    signature = _signature(attachment_id, signed_for, expires)
    return f"{url}?viewer={signed_for}&expires={expires}&signature={signature}"


def profile_url(base: str, account_id: int, role: str, name: str) -> str:
    return f"{base}/media/profile/{account_id}/{role}/{name}"


def signed_viewer(
    attachment_id: int,
    viewer: str | None,
    expires: str | None,
    signature: str | None,
    now: float | None = None,
) -> int | None:
    """The viewer a URL's capability was issued to, if it is genuine and current."""
    if not (viewer and expires and signature) or not (viewer.isdigit() and expires.isdigit()):
        return None
    if len(viewer) > 19 or len(expires) > 12:
        return None
    if int(expires) < (time.time() if now is None else now):
        return None
    wanted = _signature(attachment_id, int(viewer), int(expires))
    if not hmac.compare_digest(wanted.encode(), signature.encode()):
        return None
    return int(viewer)
