"""Input an import must refuse: one sentence, exit 1, no traceback, and nothing
written, neither in the database nor outside the data directory."""

from __future__ import annotations

import sqlite3
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from roost.cli.main import app
from tests.importers.builder import (
    ArchiveBuilder,
    bad_zip_bomb,
    bad_zip_corrupt,
    bad_zip_traversal,
    bad_zip_truncated,
)

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv("ROOST_DATA_DIR", str(data))
    created = runner.invoke(
        app, ["accounts", "create", "alice", "--email", "a@example.org", "--password", "x" * 12]
    )
    assert created.exit_code == 0, created.output
    return data


def _import(path: Path, *extra: str, account: str = "alice") -> tuple[int, str]:
    result = runner.invoke(app, ["import", "twitter", str(path), "--account", account, *extra])
    return result.exit_code, result.output


def _written(data_dir: Path) -> tuple[int, int, int]:
    with sqlite3.connect(data_dir / "roost.sqlite3") as db:
        posts = db.execute("select count(*) from statuses").fetchone()[0]
        runs = db.execute("select count(*) from twitter_imports").fetchone()[0]
        likes = db.execute("select count(*) from twitter_likes").fetchone()[0]
    return posts, runs, likes


def _archive() -> ArchiveBuilder:
    builder = ArchiveBuilder()
    builder.tweet("One tweet about wrens")
    builder.like(1, "liked")
    return builder


def _not_a_zip(path: Path) -> Path:
    path.write_bytes(b"This is a text file, not an archive.\n" * 20)
    return path


def _no_account(path: Path) -> Path:
    builder = _archive()
    builder.with_account = False
    return builder.write_zip(path)


def _grailbird(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("tweets.csv", "tweet_id,text\n1,hello\n")
        archive.writestr("data/js/tweets/2012_01.js", "Grailbird.data.tweets_2012_01 = []")
    return path


def _symlink(path: Path) -> Path:
    builder = _archive()
    with zipfile.ZipFile(path, "w") as archive:
        for name, blob in builder.files().items():
            archive.writestr(name, blob)
        link = zipfile.ZipInfo("data/tweets_media/1-link.png")
        link.external_attr = (0o120777 << 16) | 0
        archive.writestr(link, "/etc/passwd")
    return path


def _broken_json(path: Path) -> Path:
    builder = _archive()
    files = builder.files()
    files["data/tweets.js"] = files["data/tweets.js"][:-40] + b"{,,}"
    with zipfile.ZipFile(path, "w") as archive:
        for name, blob in files.items():
            archive.writestr(name, blob)
    return path


CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "not a zip": (_not_a_zip, "is not a zip file"),
    "truncated zip": (lambda p: bad_zip_truncated(p, _archive()), "zip"),
    "corrupt entry": (lambda p: bad_zip_corrupt(p, _archive()), "damaged"),
    "path traversal": (lambda p: bad_zip_traversal(p, _archive()), "leaves the archive"),
    "symbolic link": (_symlink, "symbolic link"),
    "zip bomb": (lambda p: bad_zip_bomb(p, _archive()), "zip bomb"),
    "no account.js": (_no_account, "no account.js"),
    "pre-2019 archive": (_grailbird, "Unsupported archive format"),
    "broken JSON": (_broken_json, "broken JSON"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_given_bad_input_when_imported_then_one_sentence_exit_1_and_nothing_written(
    data_dir: Path, tmp_path: Path, case: str
) -> None:
    make, expected = CASES[case]
    path = make(tmp_path / "archive.zip")

    code, output = _import(path)

    assert code == 1, output
    assert expected in output
    assert "Traceback" not in output
    assert len(output.strip().splitlines()) == 1, output
    assert _written(data_dir) == (0, 0, 0)
    assert not (tmp_path / "escaped.txt").exists()
    assert not (tmp_path.parent / "escaped.txt").exists()


def test_given_another_accounts_archive_then_it_needs_force(data_dir: Path, tmp_path: Path) -> None:
    builder = _archive()
    builder.username = "someone_else"
    path = builder.write_zip(tmp_path / "archive.zip")

    code, output = _import(path)
    assert code == 1 and "@someone_else's on Twitter, not @alice's" in output
    assert "--force" in output and _written(data_dir) == (0, 0, 0)

    code, output = _import(path, "--force")
    assert code == 0, output
    assert _written(data_dir)[0] == 1


def test_given_a_history_from_one_twitter_account_then_another_needs_force(
    data_dir: Path, tmp_path: Path
) -> None:
    first = _archive()
    assert _import(first.write_zip(tmp_path / "first.zip"))[0] == 0
    second = ArchiveBuilder(account_id=999, username="alice")
    second.tweet("Same name, another Twitter account")

    code, output = _import(second.write_zip(tmp_path / "second.zip"))

    assert code == 1 and "already holds the Twitter history of @alice" in output


def test_given_a_bare_tweets_js_then_it_needs_force_and_then_imports(
    data_dir: Path, tmp_path: Path
) -> None:
    folder = _archive().write_folder(tmp_path / "unpacked")
    bare = tmp_path / "tweets.js"
    bare.write_bytes((folder / "data" / "tweets.js").read_bytes())

    code, output = _import(bare)
    assert code == 1 and "does not say whose tweets these are" in output

    code, output = _import(bare, "--force")
    assert code == 0, output
    assert _written(data_dir) == (1, 1, 0)


def test_given_a_folder_with_a_link_out_of_it_then_it_is_refused(
    data_dir: Path, tmp_path: Path
) -> None:
    folder = _archive().write_folder(tmp_path / "unpacked")
    outside = tmp_path / "secret.txt"
    outside.write_text("not part of any archive")
    (folder / "data" / "tweets_media").mkdir()
    (folder / "data" / "tweets_media" / "1-x.png").symlink_to(outside)

    code, output = _import(folder)

    assert code == 1 and "points outside the archive folder" in output
    assert _written(data_dir) == (0, 0, 0)


def test_given_unknown_account_or_visibility_then_one_line(data_dir: Path, tmp_path: Path) -> None:
    path = _archive().write_zip(tmp_path / "a.zip")
    assert _import(path, account="nobody") == (
        1,
        "roost: no account named nobody; create it with `roost accounts create`\n",
    )
    code, output = _import(path, "--visibility", "direct")
    assert code == 1 and "public, unlisted or private" in output


def test_given_a_good_archive_then_the_report_is_printed(data_dir: Path, tmp_path: Path) -> None:
    code, output = _import(_archive().write_zip(tmp_path / "a.zip"))

    assert code == 0, output
    assert "posts" in output and "imported" in output and "likes" in output
