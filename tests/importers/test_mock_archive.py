"""The real published mock archive (../shared/fixtures/twitter-archive-community-mock)
imports cleanly: a real export's quirks, not only our builder's idea of them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import SHARED, Roost
from tests.importers.conftest import posts_by_text, report_of, run_import

MOCK = SHARED / "fixtures" / "twitter-archive-community-mock"

pytestmark = pytest.mark.skipif(
    not (MOCK / "data" / "tweets.js").exists(),
    reason=f"the published mock archive is not at {MOCK}",
)


def test_given_the_published_mock_archive_then_it_imports_cleanly(
    roost: Roost, tmp_path: Path
) -> None:
    owner = roost.account("exGenesis")

    run = run_import(roost, owner, MOCK)

    report = report_of(run)
    assert run.state == "done" and run.twitter_username == "exGenesis"
    assert report.counts["posts"] == {"imported": 7, "skipped": 0, "failed": 0}
    assert report.count("followers", "imported") == 3
    assert report.count("following", "imported") == 3
    # The 4-photo tweet's files are not in the archive: reported, post kept.
    assert report.missing_media_count == 4
    assert all(m.startswith("tweets_media/1627019761950375936-") for m in report.missing_media)
    # The self-reply chain's root is missing: its first reply waits for it.
    assert report.details["replies threaded"] == 1
    assert report.details["replies waiting for an earlier post not imported"] == 1
    posts = posts_by_text(roost, owner)
    first = posts["into the thick of it!\n\nsome lessons:\n\nWe"]
    second = posts["Another lesson is: there's a lot of tras"]
    assert second["in_reply_to_id"] == first["id"] and first["in_reply_to_id"] is None
    assert first["created_at"].replace(microsecond=0) == datetime(
        2023, 2, 18, 18, 58, 34, tzinfo=UTC
    )
    assert "t.co" not in first["text"]
    me = owner.get("/api/v1/accounts/verify_credentials").json()
    assert me["display_name"] == "❤️\u200d🔥 xiq" and me["source"]["note"] == "negentropy"
    assert "missing.png" not in me["avatar"] and "missing.png" not in me["header"]


def test_given_the_mock_archive_imported_twice_then_the_second_adds_nothing(
    roost: Roost,
) -> None:
    owner = roost.account("exGenesis")
    run_import(roost, owner, MOCK)

    again = report_of(run_import(roost, owner, MOCK))

    assert again.count("posts", "imported") == 0 and again.count("followers", "imported") == 0
    assert again.skipped["posts"] == {"already imported": 7}
