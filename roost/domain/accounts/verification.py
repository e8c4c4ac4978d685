"""Verifying profile links (``rel="me"``), as Mastodon does.

A profile field whose value is an http(s) address is verified when the page
there links back to the profile with ``rel="me"`` (an ``<a>`` or a
``<link>``): proof that whoever controls that page also controls this
account. The ``profile.verify_links`` job fetches each such page through the
one outbound client (roost/net/http.py: no private addresses, size and time
limits) after the fields change, and writes ``verified_at`` into the field;
a field whose value changed loses it. The pages show a verified field marked,
and the API's ``verified_at`` carries the time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlsplit

from sqlalchemy import select, update

from roost.clock import utcnow
from roost.db.tables import accounts
from roost.domain.events import AccountChanged
from roost.domain.jobs import JobContext
from roost.jobs.registry import Job, handles
from roost.net.http import OutboundRefused, fetch

log = logging.getLogger("roost.verification")


@dataclass(frozen=True)
class VerifyProfileLinks(Job, kind="profile.verify_links"):
    """Check the account's profile links for a link back (``rel="me"``)."""

    account_id: int


MAX_PAGE_BYTES = 1 << 20


class _RelMe(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ("a", "link"):
            return
        values = dict(attrs)
        rel = (values.get("rel") or "").lower().split()
        if "me" in rel and values.get("href"):
            self.links.append(str(values["href"]).strip())


def rel_me_links(html: str) -> list[str]:
    parser = _RelMe()
    parser.feed(html)
    return parser.links


def _same(one: str, other: str) -> bool:
    a, b = urlsplit(one), urlsplit(other)
    return (
        a.scheme in ("http", "https")
        and a.netloc.lower() == b.netloc.lower()
        and a.path.rstrip("/") == b.path.rstrip("/")
    )


def links_back(html: str, profile_urls: list[str]) -> bool:
    return any(_same(link, own) for link in rel_me_links(html) for own in profile_urls)


def is_link(value: str) -> bool:
    parts = urlsplit(value.strip())
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in value.strip()


@handles(VerifyProfileLinks)
async def verify_links(ctx: JobContext, job: VerifyProfileLinks) -> None:
    account_id = job.account_id
    async with ctx.db.read() as conn:
        row = (
            await conn.execute(
                select(accounts.c.username, accounts.c.fields).where(accounts.c.id == account_id)
            )
        ).first()
    if row is None:
        return
    base = ctx.settings.base_url
    own = [f"{base}/@{row.username}", f"{base}/users/{row.username}"]
    verdicts: dict[str, bool] = {}
    for field in row.fields:
        value = str(field.get("value", "")).strip()
        if not is_link(value) or value in verdicts:
            continue
        try:
            page = await fetch(ctx.settings, value, max_bytes=MAX_PAGE_BYTES)
        except OutboundRefused as error:
            log.info("profile link of account %s not checked: %s", account_id, error)
            verdicts[value] = False
            continue
        text = page.body.decode("utf-8", errors="replace")
        verdicts[value] = page.status == 200 and links_back(text, own)
    if not verdicts:
        return
    now = utcnow().strftime("%Y-%m-%dT%H:%M:%S.000Z")
    async with ctx.db.write() as tx:
        current = (
            await tx.execute(select(accounts.c.fields).where(accounts.c.id == account_id))
        ).scalar()
        if current is None:
            return
        fields = []
        for field in current:
            value = str(field.get("value", "")).strip()
            changed = dict(field)
            if value in verdicts:
                if verdicts[value]:
                    changed["verified_at"] = field.get("verified_at") or now
                else:
                    changed.pop("verified_at", None)
            fields.append(changed)
        if fields != current:
            await tx.execute(
                update(accounts).where(accounts.c.id == account_id).values(fields=fields)
            )
            tx.emit(AccountChanged(account_id))
