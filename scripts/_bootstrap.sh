# Sourced by scripts/serve and scripts/test: make .venv match the lock file.
# Usage: roost_bootstrap LOCKFILE
# A venv is rebuilt only when the lock file it was made from has changed, so a
# second run starts in well under a second.
set -euo pipefail

roost_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

roost_bootstrap() {
    local lock="$roost_root/$1"
    local venv="$roost_root/.venv"
    local stamp="$venv/.roost-lock"
    local want
    want="$(basename "$lock"):$(sha256sum "$lock" "$roost_root/pyproject.toml" | sha256sum | cut -c1-32)"
    if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    local python="${ROOST_PYTHON:-}"
    if [ -z "$python" ]; then
        for candidate in python3.13 python3.12 python3.11 python3; do
            if command -v "$candidate" >/dev/null 2>&1 &&
                "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
                python="$candidate"
                break
            fi
        done
    fi
    if [ -z "$python" ]; then
        echo "roost: Python 3.11 or newer is needed; install it or set ROOST_PYTHON to its path." >&2
        exit 1
    fi
    echo "roost: preparing .venv from $(basename "$lock") (first run, or the lock file changed)..." >&2
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes \
        --no-deps -r "$lock" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
        --no-build-isolation -e "$roost_root" >&2
    echo "$want" > "$stamp"
}
