"""The JavaScript clients in tests/clients/js, installed from their lock file."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

JS = Path(__file__).parent / "js"
NODE = shutil.which("node")
NPM = shutil.which("npm")
INSTALL_TIMEOUT_S = 240


def js_harness() -> Path:
    """tests/clients/js with its locked dependencies installed: in place when
    node_modules is there, else by ``npm ci`` into a cache directory named by
    the lock file's hash (installed once per lock)."""
    if (JS / "node_modules").is_dir():
        return JS
    lock = (JS / "package-lock.json").read_bytes()
    cache = Path.home() / ".cache" / "roost-tests" / f"js-{hashlib.sha256(lock).hexdigest()[:16]}"
    cache.mkdir(parents=True, exist_ok=True)
    # Another test run on this machine may be installing the same lock.
    with (cache.parent / f"{cache.name}.lock").open("w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if not (cache / "node_modules" / ".package-lock.json").exists():
            for name in ("package.json", "package-lock.json"):
                shutil.copy(JS / name, cache / name)
            assert NPM is not None, "node is installed without npm"
            installed = subprocess.run(
                [NPM, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
                cwd=cache,
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT_S,
                check=False,
            )
            assert installed.returncode == 0, installed.stderr
        for script in JS.glob("*.mjs"):
            staged = cache / f".{script.name}.{os.getpid()}"
            shutil.copy(script, staged)
            staged.replace(cache / script.name)
    return cache
