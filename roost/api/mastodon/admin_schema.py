"""The documented shapes of the instance-wide admin answers (Mastodon's
Admin::DomainBlock, DomainAllow, EmailDomainBlock, IpBlock,
CanonicalEmailBlock, Measure, Dimension and Cohort), and the functions that
build them from the domain's records."""

from __future__ import annotations

from typing import Any

from roost.api.mastodon.schema import Entity, IdText, Timestamp
from roost.api.responses import timestamp
from roost.domain.accounts.email_domains import EmailDomainBlock
from roost.domain.blocks.canonical_emails import CanonicalEmailBlock
from roost.domain.blocks.domains import DomainAllow, DomainBlock
from roost.domain.blocks.ip import IpBlock

# Mastodon's lenient booleans: "true", "1", or JSON true.
Flag = str | bool | None


class AdminDomainBlock(Entity):
    id: IdText
    domain: str
    digest: str
    created_at: Timestamp
    severity: str
    reject_media: bool
    reject_reports: bool
    private_comment: str | None
    public_comment: str | None
    obfuscate: bool


class AdminDomainAllow(Entity):
    id: IdText
    domain: str
    created_at: Timestamp


class AdminEmailDomainBlock(Entity):
    id: IdText
    domain: str
    created_at: Timestamp
    history: list[dict[str, str]]


class AdminIpBlock(Entity):
    id: IdText
    ip: str
    severity: str
    comment: str
    created_at: Timestamp
    expires_at: Timestamp | None


class AdminCanonicalEmailBlock(Entity):
    id: IdText
    canonical_email_hash: str


class AdminMeasure(Entity):
    key: str
    unit: str | None
    total: str
    human_value: str | None = None
    previous_total: str | None = None
    data: list[dict[str, str]]


class AdminDimension(Entity):
    key: str
    data: list[dict[str, Any]]


class AdminCohort(Entity):
    period: Timestamp
    frequency: str
    data: list[dict[str, Any]]


def domain_block(block: DomainBlock) -> dict[str, Any]:
    return {
        "id": str(block.id),
        "domain": block.domain,
        "digest": block.digest,
        "created_at": timestamp(block.created_at),
        "severity": block.severity,
        "reject_media": block.reject_media,
        "reject_reports": block.reject_reports,
        "private_comment": block.private_comment,
        "public_comment": block.public_comment,
        "obfuscate": block.obfuscate,
    }


def domain_allow(allow: DomainAllow) -> dict[str, Any]:
    return {"id": str(allow.id), "domain": allow.domain, "created_at": timestamp(allow.created_at)}


def email_domain_block(block: EmailDomainBlock) -> dict[str, Any]:
    # ``history`` counts refused sign-ups per day on Mastodon; Roost does not
    # count them, so it answers none rather than invented zeros.
    return {
        "id": str(block.id),
        "domain": block.domain,
        "created_at": timestamp(block.created_at),
        "history": [],
    }


def ip_block(block: IpBlock) -> dict[str, Any]:
    return {
        "id": str(block.id),
        "ip": block.ip,
        "severity": block.severity,
        "comment": block.comment,
        "created_at": timestamp(block.created_at),
        "expires_at": timestamp(block.expires_at),
    }


def canonical_email_block(block: CanonicalEmailBlock) -> dict[str, Any]:
    return {"id": str(block.id), "canonical_email_hash": block.canonical_email_hash}
