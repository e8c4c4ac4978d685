"""Make the project's environment match a lock file, never pulling one out from
under a running process. Used by scripts/_bootstrap.sh; standard library only
(it runs on the machine's own Python, before any environment exists).

    python scripts/_venv.py ROOT LOCKFILE STAMP

prints the real path of an environment built from LOCKFILE (and ROOT's
pyproject.toml, which STAMP also covers), building it first if needed.

The layout: every environment is a directory of its own,
``.venvs/<stamp digest>``, and ``.venv`` is a symbolic link to the current one.
A rebuild happens in a new directory; once complete, the link is replaced in
one rename, so a process never sees a half-built environment, and one already
running keeps the directory it started from. (An environment cannot simply be
renamed into place: its scripts name its interpreter by absolute path.)

Old environments are removed only when no process uses them: the one the link
pointed to before the swap is always kept (a script may have resolved it a
moment ago and not yet started), and any other is kept while a process runs
from it, has it as working directory or maps a file from it (Linux's /proc;
where there is no /proc, old environments are kept).

Builds are serialised with a lock file (``.venvs/.lock``): runs that start
together wait for the first one's build and then use it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

STAMP_FILE = ".roost-lock"


def say(message: str) -> None:
    print(f"roost: {message}", file=sys.stderr, flush=True)


def stamp_of(env: Path) -> str | None:
    try:
        return (env / STAMP_FILE).read_text().strip()
    except OSError:
        return None


def current(link: Path, stamp: str) -> Path | None:
    """The linked environment's real path, when it is complete and built from ``stamp``."""
    if not link.is_symlink() and link.exists():
        return None  # the old layout: a directory in the link's place
    real = link.resolve()
    if (real / "bin" / "python").exists() and stamp_of(real) == stamp:
        return real
    return None


@contextlib.contextmanager
def build_lock(envs: Path) -> Iterator[None]:
    envs.mkdir(exist_ok=True)
    with (envs / ".lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say("waiting for another run that is preparing the environment...")
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def remove(path: Path, envs: Path) -> None:
    """Rename out of sight first, so no one finds a half-deleted environment."""
    doomed = envs / f".removing-{path.name}-{os.getpid()}-{time.time_ns()}"
    os.rename(path, doomed)
    shutil.rmtree(doomed, ignore_errors=True)


def build(root: Path, lock: Path, stamp: str, target: Path) -> None:
    python = sys.executable
    say(f"preparing the environment from {lock.name} (first run, or the lock file changed)...")
    subprocess.run([python, "-m", "venv", str(target)], check=True)
    pip = [str(target / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    pip.append("--disable-pip-version-check")
    # Their output goes to stderr: stdout carries the environment's path.
    subprocess.run([*pip, "--require-hashes", "--no-deps", "-r", str(lock)], check=True, stdout=2)
    subprocess.run(
        [*pip, "--no-deps", "--no-build-isolation", "-e", str(root)], check=True, stdout=2
    )
    # Written last: an environment without it is unfinished and never linked.
    (target / STAMP_FILE).write_text(stamp + "\n")


def swap(root: Path, link: Path, envs: Path, target: Path) -> Path | None:
    """Point ``link`` at ``target`` in one rename; the environment it pointed to."""
    previous = link.resolve() if link.is_symlink() else None
    if link.exists() and not link.is_symlink():
        # The old layout kept the environment in .venv itself: set it aside
        # (renamed, not deleted: a process may be running from it).
        previous = envs / f"legacy-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
        os.rename(link, previous)
        say(f"the environment that was in .venv is now {previous.relative_to(root)}")
    fresh = root / f".venv.swap-{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        fresh.unlink()
    fresh.symlink_to(target.relative_to(root))
    os.replace(fresh, link)
    return previous


def users(paths: list[Path]) -> set[Path]:
    """Those of ``paths`` that some process runs from, works in or maps a file
    of; without /proc to ask, all of them."""
    proc = Path("/proc")
    if not (proc / "self" / "maps").exists():
        return set(paths)
    prefixes = {path: str(path) + "/" for path in paths}
    used: set[Path] = set()
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        seen: list[str] = []
        with contextlib.suppress(OSError):
            seen.append(
                (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            )
        for name in ("exe", "cwd"):
            with contextlib.suppress(OSError):
                seen.append(os.readlink(entry / name) + "/")
        with contextlib.suppress(OSError):
            seen.append((entry / "maps").read_text(errors="replace"))
        text = "\n".join(seen)
        used.update(path for path, prefix in prefixes.items() if prefix in text)
    return used


def collect(envs: Path, keep: set[Path]) -> None:
    """Remove the environments that are neither kept nor in use."""
    candidates = [
        path
        for path in envs.iterdir()
        if path.is_dir() and not path.name.startswith(".") and path.resolve() not in keep
    ]
    in_use = users([path.resolve() for path in candidates])
    for path in candidates:
        if path.resolve() not in in_use:
            remove(path, envs)


def ensure(root: Path, lock: Path, stamp: str) -> Path:
    link, envs = root / ".venv", root / ".venvs"
    ready = current(link, stamp)
    if ready is not None:
        return ready
    with build_lock(envs):
        ready = current(link, stamp)
        if ready is not None:
            return ready  # built by the run we waited for
        target = envs / hashlib.sha256(stamp.encode()).hexdigest()[:16]
        if stamp_of(target) != stamp:
            if target.exists():
                remove(target, envs)  # a build that never finished; never linked
            build(root, lock, stamp, target)
        previous = swap(root, link, envs, target)
        collect(envs, {target.resolve(), *([previous.resolve()] if previous else [])})
    return target.resolve()


def main() -> int:
    root, lock, stamp = Path(sys.argv[1]).resolve(), Path(sys.argv[2]), sys.argv[3]
    try:
        print(ensure(root, lock, stamp))
    except subprocess.CalledProcessError as error:
        say(f"preparing the environment failed ({error}); the previous one is still in use")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
