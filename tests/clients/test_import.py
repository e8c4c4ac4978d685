"""Mastodon.py reading back a Twitter history imported with `roost import twitter`:
the posts with their original dates, threads through `context`, search by a word."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import pytest

from tests.clients.conftest import LiveServer, eventually
from tests.importers.builder import ArchiveBuilder

pytestmark = pytest.mark.clients


def test_given_an_imported_archive_then_mastodon_py_reads_the_history_back(
    live_server: LiveServer, tmp_path: Path
) -> None:
    (owner,) = live_server.people("migrant")
    archive = ArchiveBuilder(username=owner.username)
    root = archive.tweet("Wintering grounds of the whooper swan")
    middle = archive.tweet("They arrive in October", reply_to=int(root["id_str"]))
    archive.tweet("And leave by March", reply_to=int(middle["id_str"]))
    archive.tweet("Unrelated: a note on bramblings")
    path = archive.write_zip(tmp_path / "twitter.zip")

    result = live_server.roost("import", "twitter", str(path), "--account", owner.username)

    assert result.returncode == 0, result.stderr
    statuses = owner.api.account_statuses(owner.id, limit=40)
    assert len(statuses) == 4
    by_text = {s["content"]: s for s in statuses}
    first = by_text["<p>Wintering grounds of the whooper swan</p>"]
    last = by_text["<p>And leave by March</p>"]
    # Original dates, and ids that sort them in the order they were posted.
    assert first["created_at"].astimezone(UTC).date() == archive.start.date()
    assert [s["id"] for s in statuses] == sorted((s["id"] for s in statuses), reverse=True)
    context = owner.api.status_context(last["id"])
    assert [s["content"] for s in context["ancestors"]] == [
        "<p>Wintering grounds of the whooper swan</p>",
        "<p>They arrive in October</p>",
    ]
    assert owner.api.status_context(first["id"])["descendants"][-1]["id"] == last["id"]

    def found() -> list[str]:
        results = owner.api.search_v2("bramblings", result_type="statuses")
        return [s["id"] for s in results["statuses"]]

    brambling = by_text["<p>Unrelated: a note on bramblings</p>"]
    assert eventually(found, timeout=15) == [brambling["id"]]
