"""toot, the command-line Mastodon client, run as a subprocess against the live
server with a config directory of its own (it reads $XDG_CONFIG_HOME/toot)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.clients.conftest import PASSWORD, LiveServer, Person

pytestmark = pytest.mark.clients

TOOT = Path(sys.executable).with_name("toot")

Toot = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def toot(tmp_path: Path) -> Toot:
    """Run toot with stdin closed, a timeout, and HOME/XDG_CONFIG_HOME in tmp_path,
    so it never reads or writes the developer's own toot config."""
    if not TOOT.exists():
        pytest.fail(f"{TOOT} is missing: install the test dependencies")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ROOST_", "TOOT_", "XDG_")) and k not in {"HOME", "EDITOR"}
    }
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        COLUMNS="120",
        NO_COLOR="1",
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(TOOT), "--no-color", *args],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert result.returncode == 0, (
            f"toot {args[0]} exited {result.returncode}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
        return result

    return run


def _log_in(toot: Toot, live_server: LiveServer, person: Person) -> None:
    """login_cli uses the OAuth password grant; the password is passed as a flag
    so that toot never prompts."""
    toot(
        "login_cli", "--instance", live_server.url, "--email", person.email, "--password", PASSWORD
    )


def test_given_toot_when_it_logs_in_posts_and_reads_home_then_the_post_is_there(
    live_server: LiveServer, toot: Toot, tmp_path: Path
) -> None:
    (person,) = live_server.people("tooter")

    _log_in(toot, live_server, person)
    assert (tmp_path / "config" / "toot" / "config.json").exists()

    whoami = toot("whoami")
    assert f"@{person.username}" in whoami.stdout

    posted = toot("post", "hello from toot, the command line client")
    assert "Toot posted" in posted.stdout

    home = toot("timelines", "home", "--no-pager", "--no-clear")
    assert "hello from toot, the command line client" in home.stdout

    statuses = json.loads(toot("timelines", "home", "--json", "--no-pager").stdout)
    assert statuses[0]["content"] == "<p>hello from toot, the command line client</p>"
    assert statuses[0]["account"]["id"] == person.id

    mine = person.api.account_statuses(person.id)
    assert [s["id"] for s in mine] == [statuses[0]["id"]]


def test_given_a_logged_in_toot_when_it_shows_the_public_timeline_then_others_posts_appear(
    live_server: LiveServer, toot: Toot
) -> None:
    reader, writer = live_server.people("tootreader", "tootwriter")
    writer.api.status_post("a public hello for toot to find")
    _log_in(toot, live_server, reader)

    public = toot("timelines", "public", "--no-pager", "--no-clear")

    assert "a public hello for toot to find" in public.stdout
    assert f"@{writer.username}" in public.stdout
