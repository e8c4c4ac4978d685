"""The Instance entity (v1 and v2), its configuration and rules, in Mastodon's
wire format."""

from __future__ import annotations

from typing import Any

from roost.api import images
from roost.api.mastodon.serializers import MASTODON_API_VERSION, account, version
from roost.config import Settings
from roost.domain.instance.rules import Rule
from roost.domain.media.actions import MAX_DESCRIPTION
from roost.domain.privacy import Visible
from roost.domain.types import (
    Account,
)
from roost.keys import vapid
from roost.media.sniff import SUPPORTED as SUPPORTED_MEDIA


def rule(found: Rule) -> dict[str, str]:
    return {"id": str(found.id), "text": found.text, "hint": found.hint}


def instance_v2(
    settings: Settings, user_count: int, contact: Visible[Account] | None
) -> dict[str, Any]:
    base = settings.base_url
    thumbnails = images.thumbnail_urls(base)
    return {
        "domain": settings.domain,
        "title": settings.instance_title,
        "version": version(),
        "source_url": "https://github.com/roost-social/roost",
        "description": settings.instance_description,
        "usage": {"users": {"active_month": user_count}},
        "thumbnail": {"url": thumbnails["@1x"], "versions": thumbnails},
        "icon": [{"src": url, "size": size} for size, url in images.icon_urls(base).items()],
        "languages": ["en"],
        "configuration": configuration(settings),
        "registrations": {
            "enabled": settings.registrations != "closed",
            "approval_required": settings.registrations == "approval",
            "message": None,
            "url": None,
        },
        "api_versions": {"mastodon": MASTODON_API_VERSION},
        "contact": {
            "email": settings.contact_email,
            "account": account(contact, base) if contact is not None else None,
        },
        "rules": [],
    }


def configuration(settings: Settings) -> dict[str, Any]:
    return {
        "urls": {
            "streaming": settings.base_url.replace("http", "ws", 1),
            "status": None,
        },
        "vapid": {"public_key": vapid.public_key()},
        "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
        "statuses": {
            "max_characters": settings.max_post_chars,
            "max_media_attachments": 4,
            "characters_reserved_per_url": 23,
        },
        "media_attachments": {
            "supported_mime_types": [f.mime for f in SUPPORTED_MEDIA],
            "description_limit": MAX_DESCRIPTION,
            "image_size_limit": settings.media_max_image_bytes,
            "image_matrix_limit": settings.media_max_image_pixels,
            "video_size_limit": settings.media_max_video_bytes,
            "video_frame_rate_limit": 120,
            "video_matrix_limit": 4096 * 2160,
        },
        "polls": {
            "max_options": 4,
            "max_characters_per_option": 50,
            "min_expiration": 300,
            "max_expiration": 2629746,
        },
        "translation": {"enabled": False},
    }


def instance_v1(
    settings: Settings, user_count: int, status_count: int, contact: Visible[Account] | None
) -> dict[str, Any]:
    base = settings.base_url
    return {
        "uri": settings.domain,
        "title": settings.instance_title,
        "short_description": settings.instance_description,
        "description": settings.instance_description,
        "email": settings.contact_email,
        "version": version(),
        "urls": {"streaming_api": base.replace("http", "ws", 1)},
        "stats": {"user_count": user_count, "status_count": status_count, "domain_count": 0},
        "thumbnail": images.thumbnail_urls(base)["@1x"],
        "languages": ["en"],
        "registrations": settings.registrations != "closed",
        "approval_required": settings.registrations == "approval",
        "invites_enabled": False,
        "configuration": configuration(settings),
        "contact_account": account(contact, base) if contact is not None else None,
        "rules": [],
    }


# Mastodon's codes for what is wrong with a field (``details`` of a 422 from
# POST /api/v1/accounts), by the domain's name for each rule.
