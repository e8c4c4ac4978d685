"""One version, said the same everywhere: pyproject.toml (what ``roost
--version`` prints, from the installed metadata), ``roost.__version__`` (what
backup manifests record) and the newest entry of CHANGELOG.md."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version

import roost
from tests.db.releases import ROOT, releases


def test_given_this_release_then_pyproject_package_and_changelog_name_one_version() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    newest = re.search(r"^## (\S+)", changelog, re.MULTILINE)
    assert newest is not None, "CHANGELOG.md has no release entry"
    assert roost.__version__ == declared == newest.group(1)
    assert version("roost") == declared, "reinstall: the installed metadata is stale"


def test_given_the_releases_file_then_every_release_has_a_changelog_entry_and_a_commit() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    listed = releases()
    assert listed, "RELEASES lists no release"
    for release in listed:
        assert f"\n## {release.version}\n" in changelog, release
        assert re.fullmatch(r"[0-9a-f]{40}", release.commit), release
        assert re.fullmatch(r"\d{4}", release.schema), release
