"""PostgreSQL's own tools (pg_dump, pg_restore), found and version-checked.

pg_dump can dump a server of its own major version or older, never newer, and
pg_restore reads archives of its own version or older: a mismatch is refused
here with the version to install, before anything is written.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

from roost.config import Settings
from roost.ops.errors import BackupError


def tool(settings: Settings, name: str) -> str:
    if settings.pg_bin_dir:
        candidate = Path(settings.pg_bin_dir) / name
        if not candidate.is_file():
            raise BackupError(f"{name} is not in ROOST_PG_BIN_DIR ({settings.pg_bin_dir})")
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed; install the PostgreSQL client tools of your "
            "server's version, or set ROOST_PG_BIN_DIR to where they are"
        )
    return found


async def tool_major(path: str) -> int:
    output = await run(path, ["--version"])
    match = re.search(r"\(PostgreSQL\)\s+(\d+)", output)
    if match is None:
        raise BackupError(f"cannot tell the version of {path} from {output.strip()!r}")
    return int(match.group(1))


async def check_dump_tool(path: str, server_version_num: int) -> int:
    """The dump tool's major version; refuses one older than the server."""
    major = await tool_major(path)
    server_major = server_version_num // 10000
    if major < server_major:
        raise BackupError(
            f"{path} is version {major} but the server runs PostgreSQL {server_major}; "
            f"install the PostgreSQL {server_major} client tools (or set ROOST_PG_BIN_DIR)"
        )
    return major


async def run(path: str, args: list[str], *, env: dict[str, str] | None = None) -> str:
    """Run a tool; its stderr becomes the error message when it fails."""
    process = await asyncio.create_subprocess_exec(
        path,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        detail = err.decode(errors="replace").strip().splitlines()
        first = next((line for line in detail if "error" in line.lower()), None)
        raise BackupError(
            f"{Path(path).name} failed: {first or (detail[-1] if detail else 'no message')}"
        )
    return out.decode(errors="replace")
