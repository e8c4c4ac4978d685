"""scripts/_bootstrap.sh (with scripts/_venv.py): the environment the scripts run
from is rebuilt beside the old one and swapped in, never deleted under a
running process, and runs that start together build it once.

Each test runs the real bootstrap in a project of its own: a copy of the two
scripts, a lock file with no packages and a one-module project whose build
backend lives in the project itself, so nothing is downloaded (pip runs with
PIP_NO_INDEX=1).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BASE_PYTHON = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"

pytestmark = pytest.mark.slow

PYPROJECT = """\
[build-system]
requires = []
build-backend = "tiny_backend"
backend-path = ["."]

[project]
name = "tiny"
version = "0"
"""

# A PEP 660 backend in a few lines: the editable wheel holds a .pth file
# naming the project directory, which is all an editable install is.
BACKEND = """\
import pathlib
import zipfile

NAME = "tiny-0"


def get_requires_for_build_editable(config_settings=None):
    return []


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    wheel = f"{NAME}-py3-none-any.whl"
    files = {
        "tiny.pth": str(pathlib.Path.cwd()) + "\\n",
        f"{NAME}.dist-info/METADATA": "Metadata-Version: 2.1\\nName: tiny\\nVersion: 0\\n",
        f"{NAME}.dist-info/WHEEL": (
            "Wheel-Version: 1.0\\nGenerator: tiny\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
        ),
    }
    files[f"{NAME}.dist-info/RECORD"] = "".join(f"{name},,\\n" for name in files) + (
        f"{NAME}.dist-info/RECORD,,\\n"
    )
    with zipfile.ZipFile(pathlib.Path(wheel_directory) / wheel, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return wheel
"""

DRIVER = """\
#!/usr/bin/env bash
source "$(dirname "$0")/scripts/_bootstrap.sh"
roost_bootstrap tiny.lock
echo "$roost_venv"
"""

# Holds on to the environment it was started from; on each line it reads, it
# imports a module of that environment afresh and says where from.
HOLDER = """\
import importlib, sys
print("up", flush=True)
for line in sys.stdin:
    sys.modules.pop("pip", None)
    print(importlib.import_module("pip").__file__, flush=True)
"""


@dataclass
class Project:
    root: Path

    @property
    def link(self) -> Path:
        return self.root / ".venv"

    def change_lock(self, note: str) -> None:
        with (self.root / "tiny.lock").open("a") as lock:
            lock.write(f"# {note}\n")

    def bootstrap(self) -> subprocess.Popen[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ROOST_", "PIP_"))}
        env.update(ROOST_PYTHON=str(BASE_PYTHON), PIP_NO_INDEX="1")
        return subprocess.Popen(
            [str(self.root / "which-env")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def environment(self) -> Path:
        """Run the bootstrap to its end; the environment it gives."""
        process = self.bootstrap()
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        return Path(out.strip())


@pytest.fixture
def project(tmp_path: Path) -> Project:
    root = tmp_path / "project"
    (root / "scripts").mkdir(parents=True)
    for name in ("_bootstrap.sh", "_venv.py"):
        shutil.copy(REPO / "scripts" / name, root / "scripts" / name)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "tiny_backend.py").write_text(BACKEND)
    (root / "tiny.lock").write_text("# no packages\n")
    driver = root / "which-env"
    driver.write_text(DRIVER)
    driver.chmod(0o755)
    return Project(root)


def test_given_a_process_running_from_the_environment_when_the_lock_changes_then_it_keeps_it(
    project: Project,
) -> None:
    first = project.environment()
    # Something only this very directory has (a rebuild in place would lose it).
    (first / "held-by-a-test").write_text("the process below runs from here")
    with subprocess.Popen(
        [str(first / "bin" / "python"), "-c", HOLDER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        assert holder.stdout is not None and holder.stdin is not None
        try:
            assert holder.stdout.readline().strip() == "up"

            project.change_lock("a new pin")
            second = project.environment()
            project.change_lock("another")
            third = project.environment()

            # The running process's environment is the same directory, whole,
            # and what it imports now still comes from it.
            assert (first / "held-by-a-test").is_file() and (first / "bin" / "python").exists()
            holder.stdin.write("import again\n")
            holder.stdin.flush()
            assert Path(holder.stdout.readline().strip()).is_relative_to(first)
            assert holder.poll() is None
            # Each rebuild went to a new directory, and the newest is linked.
            assert len({first, second, third}) == 3
            assert project.link.is_symlink() and project.link.resolve() == third
        finally:
            holder.kill()

    # Unused now: the next swap removes it (and the one before last), keeping
    # the one it replaces.
    project.change_lock("after the process ended")
    fourth = project.environment()
    assert not first.exists() and not second.exists()
    assert third.exists() and project.link.resolve() == fourth


def test_given_two_first_runs_at_once_then_one_builds_and_both_use_it(project: Project) -> None:
    runs = [project.bootstrap(), project.bootstrap()]
    results = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], results
    (one, _), (other, _) = results
    assert one.strip() == other.strip() and Path(one.strip()) == project.link.resolve()
    said = "".join(err for _, err in results)
    assert said.count("preparing the environment from") == 1, said
    assert (Path(one.strip()) / ".roost-lock").is_file()


def test_given_a_lock_that_cannot_be_installed_then_the_linked_environment_stays(
    project: Project,
) -> None:
    working = project.environment()
    with (project.root / "tiny.lock").open("a") as lock:
        lock.write("nothing-by-this-name==1.0 --hash=sha256:" + "0" * 64 + "\n")
    failed = project.bootstrap()
    _, err = failed.communicate(timeout=300)
    assert failed.returncode != 0
    assert "preparing the environment failed" in err
    assert project.link.resolve() == working and (working / "bin" / "python").exists()


def test_given_the_old_layout_then_its_environment_is_set_aside_not_deleted(
    project: Project,
) -> None:
    project.link.mkdir()
    (project.link / "marker").write_text("an environment of the old layout")
    fresh = project.environment()
    assert project.link.is_symlink() and project.link.resolve() == fresh
    aside = [p for p in (project.root / ".venvs").iterdir() if p.name.startswith("legacy-")]
    assert len(aside) == 1 and (aside[0] / "marker").is_file()
