"""The profile: display name, bio, website, avatar and header.

Only what the account has not set here is filled in: an import never
overwrites a profile its owner already wrote on Roost. The bio and website
are t.co links in the archive; they are expanded where a tweet of the same
archive shows where the link leads (the archive says it nowhere else, and
nothing is fetched from the network).
"""

from __future__ import annotations

import re

from sqlalchemy import select

from roost.db.engine import Database
from roost.db.tables import accounts
from roost.domain.accounts.actions import (
    MAX_DISPLAY_NAME,
    MAX_FIELDS,
    MAX_NOTE,
    ProfileChange,
    do_update_profile,
)
from roost.importers.twitter.mapping import expand
from roost.importers.twitter.media import MediaImporter
from roost.importers.twitter.report import Report
from roost.importers.twitter.scan import Scan

_TCO = re.compile(r"https?://t\.co/[A-Za-z0-9]+")
_MAX_FIELD = 255


async def import_profile(
    db: Database, account_id: int, scan: Scan, media: MediaImporter | None, report: Report
) -> None:
    async with db.read() as conn:
        current = (
            await conn.execute(
                select(
                    accounts.c.display_name,
                    accounts.c.note,
                    accounts.c.fields,
                    accounts.c.avatar_file,
                    accounts.c.header_file,
                ).where(accounts.c.id == account_id)
            )
        ).one()
    profile = scan.profile
    bio = expand(profile.bio, scan.expansions)
    website = expand(profile.website, scan.expansions)
    unexpanded = sorted(set(_TCO.findall(f"{bio} {website}")))
    if unexpanded:
        report.note(
            "The profile's links " + ", ".join(unexpanded) + " stay as t.co links: the "
            "archive does not say where they lead"
        )
    set_now: list[str] = []
    display_name = None
    if not current.display_name and profile.display_name:
        display_name = profile.display_name.strip()[:MAX_DISPLAY_NAME]
        set_now.append("display name")
    note = None
    if not current.note and bio:
        note = bio[:MAX_NOTE]
        set_now.append("bio")
    fields = None
    existing = [(f.get("name", ""), f.get("value", "")) for f in current.fields or []]
    if (
        website
        and len(existing) < MAX_FIELDS
        and all(value != website for _name, value in existing)
    ):
        fields = [*existing, ("Website", website[:_MAX_FIELD])]
        set_now.append("website")
    if set_now:
        async with db.write() as tx:
            await do_update_profile(
                tx, account_id, ProfileChange(display_name=display_name, note=note, fields=fields)
            )
    twitter_id = scan.owner.twitter_id
    if media is not None:
        if current.avatar_file is None and await media.profile_image(
            "avatar", profile.avatar_url, twitter_id
        ):
            set_now.append("avatar")
        if current.header_file is None and await media.profile_image(
            "header", profile.header_url, twitter_id
        ):
            set_now.append("header")
    report.profile = sorted(set(report.profile) | set(set_now))
