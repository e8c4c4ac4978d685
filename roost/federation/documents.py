"""ActivityPub's JSON-LD shapes, as Mastodon writes them (the fields and
contexts it sends, so that Mastodon, GoToSocial and the rest read Roost's
actors and posts as they read Mastodon's). Built only from what the privacy
policy cleared (``Visible``), as the Mastodon serializers are.
"""

from __future__ import annotations

import html
import mimetypes
from datetime import datetime
from typing import Any

from roost.domain.federation import post_links, quoted, uris
from roost.domain.privacy import Visible
from roost.domain.types import Account, StatusView, Visibility
from roost.media import urls as media_urls

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
ACTIVITY_JSON = "application/activity+json"
LD_JSON = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'

CONTEXT: list[Any] = [
    "https://www.w3.org/ns/activitystreams",
    "https://w3id.org/security/v1",
    {
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "toot": "http://joinmastodon.org/ns#",
        "featured": {"@id": "toot:featured", "@type": "@id"},
        "alsoKnownAs": {"@id": "as:alsoKnownAs", "@type": "@id"},
        "movedTo": {"@id": "as:movedTo", "@type": "@id"},
        "discoverable": "toot:discoverable",
        "indexable": "toot:indexable",
        "schema": "http://schema.org#",
        "PropertyValue": "schema:PropertyValue",
        "value": "schema:value",
    },
]
NOTE_CONTEXT: list[Any] = [
    "https://www.w3.org/ns/activitystreams",
    {
        "sensitive": "as:sensitive",
        "toot": "http://joinmastodon.org/ns#",
        "Hashtag": "as:Hashtag",
        **quoted.QUOTE_TERMS,
    },
]


def timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _image(base: str, account: Account, role: str, key: str | None) -> dict[str, Any] | None:
    if not key:
        return None
    name = key.rsplit("/", 1)[-1]
    return {
        "type": "Image",
        "mediaType": mimetypes.guess_type(name)[0] or "image/png",
        "url": media_urls.profile_url(base, account.id, role, name),
    }


def actor(
    visible: Visible[Account],
    base: str,
    public_key_pem: str,
    *,
    also_known_as: list[str] | None = None,
    moved_to: str | None = None,
) -> dict[str, Any]:
    """A local account as a ``Person`` (``Service`` for a bot), with its
    aliases (``alsoKnownAs``) and, once it moved, ``movedTo``."""
    account = visible.value
    me = uris.actor_uri(base, account.username)
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "id": me,
        "type": "Service" if account.bot else "Person",
        "following": f"{me}/following",
        "followers": f"{me}/followers",
        "inbox": f"{me}/inbox",
        "outbox": f"{me}/outbox",
        "featured": f"{me}/collections/featured",
        "preferredUsername": account.username,
        "name": account.display_name,
        "summary": account.note_html,
        "url": f"{base}/@{account.username}",
        "manuallyApprovesFollowers": account.locked,
        "discoverable": account.discoverable,
        "indexable": account.indexable,
        "published": timestamp(account.created_at),
        "publicKey": {"id": uris.key_id(me), "owner": me, "publicKeyPem": public_key_pem},
        "endpoints": {"sharedInbox": f"{base}/inbox"},
        "attachment": [
            {
                "type": "PropertyValue",
                "name": str(field.get("name", "")),
                "value": html.escape(str(field.get("value", ""))),
            }
            for field in account.fields
        ],
    }
    for name, role, key in (
        ("icon", "avatar", account.avatar_file),
        ("image", "header", account.header_file),
    ):
        image = _image(base, account, role, key)
        if image is not None:
            document[name] = image
    if also_known_as:
        document["alsoKnownAs"] = also_known_as
    if moved_to is not None:
        document["movedTo"] = moved_to
    return document


def instance_actor(base: str, domain: str, public_key_pem: str) -> dict[str, Any]:
    """The server's own actor, which signs the fetches made on nobody's behalf."""
    me = uris.instance_actor_uri(base)
    return {
        "@context": CONTEXT,
        "id": me,
        "type": "Application",
        "inbox": f"{me}/inbox",
        "outbox": f"{me}/outbox",
        "preferredUsername": domain,
        "url": f"{base}/about",
        "manuallyApprovesFollowers": True,
        "publicKey": {"id": uris.key_id(me), "owner": me, "publicKeyPem": public_key_pem},
        "endpoints": {"sharedInbox": f"{base}/inbox"},
    }


def _actor_of(account: Account, base: str) -> str:
    """The actor id of a mentioned account: its own for one of another server."""
    if account.domain is not None and account.uri:
        return account.uri
    return uris.actor_uri(base, account.username)


def _audience(view: StatusView, base: str, author: str) -> tuple[list[str], list[str]]:
    followers = f"{author}/followers"
    mentioned = [_actor_of(account, base) for account in view.mentions]
    visibility = view.status.visibility
    if visibility == Visibility.PUBLIC:
        return [PUBLIC], [followers, *mentioned]
    if visibility == Visibility.UNLISTED:
        return [followers], [PUBLIC, *mentioned]
    if visibility == Visibility.PRIVATE:
        return [followers], mentioned
    return mentioned, []


def note(
    visible: Visible[StatusView],
    base: str,
    domain: str,
    in_reply_to: str | None,
    quote_fields: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A post as a ``Note`` (without ``@context``: ``with_context`` adds it).
    ``in_reply_to``: the URI of the post it answers, if any; ``quote_fields``:
    its quote and quote policy (roost/domain/federation/quoted.py)."""
    view = visible.value
    status = view.status
    author = uris.actor_uri(base, view.account.username)
    to, cc = _audience(view, base, author)
    tags: list[dict[str, Any]] = [
        {
            "type": "Mention",
            "href": _actor_of(account, base),
            "name": f"@{account.username}@{account.domain or domain}",
        }
        for account in view.mentions
    ]
    tags += [
        {"type": "Hashtag", "href": f"{base}/tags/{name}", "name": f"#{name}"} for name in view.tags
    ]
    document: dict[str, Any] = {
        "id": uris.status_uri(base, view.account.username, status.id),
        "type": "Note",
        "summary": status.spoiler_text or None,
        "inReplyTo": in_reply_to,
        "published": timestamp(status.created_at),
        "url": f"{base}/@{view.account.username}/{status.id}",
        "attributedTo": author,
        "to": to,
        "cc": cc,
        # As Mastodon's Note: every post of a sensitized account is sensitive.
        "sensitive": status.sensitive or view.account.sensitized_at is not None,
        "content": status.content,
        "attachment": [
            {
                "type": "Document",
                "mediaType": media.content_type,
                "url": media_urls.attachment_url(
                    base, media.id, "original", media.file_key.rsplit("/", 1)[-1]
                ),
                "name": media.description,
                "blurhash": media.blurhash,
            }
            for media in view.media
            if media.ready
        ],
        "tag": tags,
    }
    document["replies"] = post_links.replies_reference(document["id"])
    if status.language:
        document["contentMap"] = {status.language: status.content}
    if status.edited_at is not None:
        document["updated"] = timestamp(status.edited_at)
    document.update(quote_fields or {})
    return document


def create(note_document: dict[str, Any]) -> dict[str, Any]:
    """The ``Create`` activity of a note (at the note's URI + ``/activity``)."""
    return {
        "id": f"{note_document['id']}/activity",
        "type": "Create",
        "actor": note_document["attributedTo"],
        "published": note_document["published"],
        "to": note_document["to"],
        "cc": note_document["cc"],
        "object": note_document,
    }


def announce(visible: Visible[StatusView], base: str, boosted_uri: str) -> dict[str, Any]:
    """A boost as the ``Announce`` of the boosted post's URI."""
    view = visible.value
    author = uris.actor_uri(base, view.account.username)
    to, cc = _audience(view, base, author)
    return {
        "id": f"{uris.status_uri(base, view.account.username, view.status.id)}/activity",
        "type": "Announce",
        "actor": author,
        "published": timestamp(view.status.created_at),
        "to": to,
        "cc": cc,
        "object": boosted_uri,
    }


def with_context(document: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return {"@context": NOTE_CONTEXT if context is None else context, **document}


def collection(uri: str, total: int, first: str | None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": uri,
        "type": "OrderedCollection",
        "totalItems": total,
    }
    if first is not None:
        document["first"] = first
    return document


def collection_page(
    uri: str, part_of: str, items: list[Any], next_page: str | None
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": NOTE_CONTEXT,
        "id": uri,
        "type": "OrderedCollectionPage",
        "partOf": part_of,
        "orderedItems": items,
    }
    if next_page is not None:
        document["next"] = next_page
    return document


def webfinger(subject: str, actor_uri: str, profile: str | None) -> dict[str, Any]:
    links: list[dict[str, Any]] = []
    if profile is not None:
        links.append(
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": profile}
        )
    links.append({"rel": "self", "type": ACTIVITY_JSON, "href": actor_uri})
    aliases = [actor_uri] if profile is None else [profile, actor_uri]
    return {"subject": subject, "aliases": aliases, "links": links}


def host_meta(base: str) -> str:
    template = html.escape(f"{base}/.well-known/webfinger?resource={{uri}}", quote=True)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" template="{template}"/>\n'
        "</XRD>\n"
    )
