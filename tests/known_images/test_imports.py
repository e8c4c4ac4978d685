"""A Twitter archive holding a listed picture: the post comes in, the picture
does not; it is quarantined like any upload."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from roost.db.tables import statuses
from tests.conftest import Roost
from tests.importers.builder import ArchiveBuilder
from tests.importers.conftest import report_of, rows, run_import
from tests.known_images import pictures
from tests.known_images.support import import_list, media_rows, quarantine_rows, stored_files


def test_given_an_archive_with_a_listed_picture_when_imported_then_the_post_comes_without_it(
    roost: Roost, tmp_path: Path
) -> None:
    listed = pictures.png(17)
    import_list(roost, "hotline", pictures.pdq_hex(listed))
    builder = ArchiveBuilder()
    pictured = builder.tweet(
        "At the estuary https://t.co/pics000001", media=[("https://t.co/pics000001", "BIRD1")]
    )
    builder.add_media_file(pictured, "BIRD1", listed)
    alice = roost.account("alice")

    run = run_import(roost, alice, builder.write_zip(tmp_path / "archive.zip"))

    report = report_of(run)
    assert report.count("media", "failed") == 1 and report.count("media", "imported") == 0
    assert any("could not be processed" in note for note in report.notes)
    assert len(rows(roost, select(statuses.c.id))) == 1
    assert media_rows(roost) == 0 and stored_files(roost) == []
    [row] = quarantine_rows(roost)
    assert row.origin == "import" and row.account_id == int(alice.id)
