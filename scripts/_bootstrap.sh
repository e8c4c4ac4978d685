# Sourced by scripts/serve, scripts/test and scripts/check: find (or build) the
# environment of the lock file and set roost_venv to its real path.
# Usage: roost_bootstrap LOCKFILE
#
# The environment is built from the lock file and pyproject.toml into a
# directory of its own under .venvs/, and .venv is a link to the current one,
# swapped in one rename once a new one is complete; one in use is never deleted
# (scripts/_venv.py). The scripts run what they run from the real path, so a
# later swap does not change what a running process loads. A second run starts
# in well under a second.
set -euo pipefail

roost_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

_roost_digest() {
    if command -v sha256sum >/dev/null 2>&1; then
        cat "$@" | sha256sum | cut -c1-32
    else
        cat "$@" | shasum -a 256 | cut -c1-32
    fi
}

_roost_python() {
    local python="${ROOST_PYTHON:-}"
    if [ -n "$python" ]; then
        echo "$python"
        return 0
    fi
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    echo "roost: Python 3.11 or newer is needed; install it or set ROOST_PYTHON to its path." >&2
    return 1
}

roost_bootstrap() {
    local lock="$roost_root/$1"
    local want
    want="$(basename "$lock"):$(_roost_digest "$lock" "$roost_root/pyproject.toml")"
    local link="$roost_root/.venv"
    if [ -L "$link" ] && [ -x "$link/bin/python" ] &&
        [ "$(cat "$link/.roost-lock" 2>/dev/null)" = "$want" ]; then
        roost_venv="$(cd "$link" && pwd -P)"
        return 0
    fi
    local python
    python="$(_roost_python)"
    roost_venv="$("$python" "$roost_root/scripts/_venv.py" "$roost_root" "$lock" "$want")"
}
