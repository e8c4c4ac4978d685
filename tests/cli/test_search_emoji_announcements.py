"""`roost search reindex`, `roost emoji` and `roost announcements` as an operator uses them."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import text
from typer.testing import CliRunner

from roost.cli.main import app
from roost.config import load_settings
from roost.db.engine import Database
from roost.db.migrate import upgrade
from roost.domain.accounts.actions import NewAccount, do_create_account
from roost.domain.statuses.actions import NewStatus, do_create_status
from roost.domain.types import Viewer
from roost.process import prepare_process
from roost.search.index import Scope, index_for
from roost.search.query import parse

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ROOST_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def _post_without_jobs(data_dir: Path, texts: list[str]) -> int:
    """Posts written through the real action, their index jobs never run."""

    async def body() -> int:
        settings = load_settings(data_dir=data_dir)
        prepare_process(settings)
        db = Database(settings)
        await upgrade(db)
        async with db.write() as tx:
            author = await do_create_account(
                tx, NewAccount(username="alice", email="a@example.org", password="long enough")
            )
            for line in texts:
                await do_create_status(
                    tx, Viewer(account_id=author), NewStatus(text=line), base_url="", max_chars=500
                )
            # A row for a post that no longer exists, as an erasure could leave.
            await tx.execute(
                text("INSERT INTO search_statuses (rowid, body, meta) VALUES (42, 'ghost', 'a1')")
            )
        await db.dispose()
        return author

    return asyncio.run(body())


def _search(data_dir: Path, author: int, words: str) -> list[int]:
    async def body() -> list[int]:
        settings = load_settings(data_dir=data_dir)
        prepare_process(settings)
        db = Database(settings)
        async with db.read() as conn:
            found = await index_for("sqlite").search(
                conn, Scope(searcher=author), parse(words), window=10
            )
        await db.dispose()
        return found

    return asyncio.run(body())


def test_given_an_index_missing_posts_when_reindexed_then_search_finds_them(
    data_dir: Path,
) -> None:
    author = _post_without_jobs(data_dir, ["first walk in the park", "second walk"])
    assert _search(data_dir, author, "walk") == []
    result = runner.invoke(app, ["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert "indexed 2 posts" in result.output
    assert len(_search(data_dir, author, "walk")) == 2

    async def ghosts() -> int:
        db = Database(load_settings(data_dir=data_dir))
        async with db.read() as conn:
            rows = await conn.execute(text("SELECT count(*) FROM search_statuses WHERE rowid = 42"))
            count = int(rows.scalar_one())
        await db.dispose()
        return count

    assert asyncio.run(ghosts()) == 0


def _png(tmp_path: Path) -> Path:
    out = io.BytesIO()
    Image.new("RGBA", (24, 24), "green").save(out, "PNG")
    path = tmp_path / "blob.png"
    path.write_bytes(out.getvalue())
    return path


def test_given_an_image_when_added_as_emoji_then_listed_stored_and_removable(
    data_dir: Path, tmp_path: Path
) -> None:
    image = _png(tmp_path)
    added = runner.invoke(app, ["emoji", "add", "blobgreen", str(image), "--category", "Blobs"])
    assert added.exit_code == 0, added.output
    assert "added :blobgreen:" in added.output
    stored = list((data_dir / "emoji").iterdir())
    assert len(stored) == 1 and stored[0].read_bytes() == image.read_bytes()
    assert "blobgreen" in runner.invoke(app, ["emoji", "list"]).output
    again = runner.invoke(app, ["emoji", "add", "blobgreen", str(image)])
    assert again.exit_code == 1 and "already" in again.output
    removed = runner.invoke(app, ["emoji", "remove", "blobgreen"])
    assert removed.exit_code == 0
    assert list((data_dir / "emoji").iterdir()) == []


def test_given_a_file_that_is_not_an_image_when_added_then_one_line_and_exit_1(
    data_dir: Path, tmp_path: Path
) -> None:
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"<html>not an image</html>")
    result = runner.invoke(app, ["emoji", "add", "fake", str(fake)])
    assert result.exit_code == 1
    assert "not a PNG, GIF or WebP" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    bad_name = runner.invoke(app, ["emoji", "add", "a b", str(_png(tmp_path))])
    assert bad_name.exit_code == 1 and "shortcode" in bad_name.output
    missing = runner.invoke(app, ["emoji", "add", "nofile", str(tmp_path / "missing.png")])
    assert missing.exit_code == 1 and "cannot read" in missing.output


def test_given_an_announcement_when_added_listed_and_removed_then_each_step_says_so(
    data_dir: Path,
) -> None:
    added = runner.invoke(
        app, ["announcements", "add", "Upgrade on Sunday", "--ends-at", "2999-01-01"]
    )
    assert added.exit_code == 0, added.output
    announcement_id = added.output.strip().split()[-1]
    listed = runner.invoke(app, ["announcements", "list"])
    assert "Upgrade on Sunday" in listed.output and announcement_id in listed.output
    bad = runner.invoke(app, ["announcements", "add", "x", "--starts-at", "soon"])
    assert bad.exit_code == 1 and "--starts-at" in bad.output
    assert runner.invoke(app, ["announcements", "remove", announcement_id]).exit_code == 0
    assert "no announcements" in runner.invoke(app, ["announcements", "list"]).output
    gone = runner.invoke(app, ["announcements", "remove", announcement_id])
    assert gone.exit_code == 1 and "no announcement" in gone.output
