"""The previous release, as RELEASES records it, and its source read from git."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from roost import __version__

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Release:
    version: str
    commit: str
    schema: str


def releases() -> list[Release]:
    found = []
    for line in (ROOT / "RELEASES").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            version, commit, schema = line.split()
            found.append(Release(version, commit, schema))
    return found


def previous_release() -> Release:
    """The newest recorded release other than this one."""
    earlier = [release for release in releases() if release.version != __version__]
    assert earlier, "RELEASES names no release before this one"
    return earlier[0]


def require_history(release: Release) -> None:
    """Skip, saying why, when this checkout has no git history holding the release."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed: the previous release's source cannot be read")
    found = subprocess.run(
        ["git", "-C", str(ROOT), "cat-file", "-e", f"{release.commit}^{{commit}}"],
        capture_output=True,
        check=False,
    )
    if found.returncode != 0:
        shallow = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--is-shallow-repository"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        why = "a shallow clone" if shallow == "true" else "no git history"
        pytest.skip(
            f"this checkout ({why}) lacks commit {release.commit} of release "
            f"{release.version}: clone with full history to run this check"
        )


def source_of(release: Release, path: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{release.commit}:{path}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def extract(release: Release, into: Path) -> Path:
    """The release's tree (the package and its tests) written under ``into``."""
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", release.commit, "roost"],
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into
