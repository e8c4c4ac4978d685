"""masto.js (npm) against a live server: a poll posted, voted on and read back
over REST, and the user stream over WebSocket at the streaming URL the instance
advertises. The script is tests/clients/js/masto_polls_streaming.mjs; it prints
what the client library returned, and the assertions are here."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from tests.clients.conftest import LiveServer
from tests.clients.js_harness import NODE, js_harness

pytestmark = [
    pytest.mark.clients,
    pytest.mark.timeout(300),
    pytest.mark.skipif(NODE is None, reason="node is not installed"),
]

SCRIPT_TIMEOUT_S = 90


def _run_masto(live_server: LiveServer, token: str, other_token: str) -> dict[str, Any]:
    assert NODE is not None
    harness = js_harness()
    ran = subprocess.run(
        [NODE, str(harness / "masto_polls_streaming.mjs"), live_server.url, token, other_token],
        cwd=harness,
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT_S,
        check=False,
    )
    assert ran.returncode == 0, f"masto.js exited {ran.returncode}:\n{ran.stderr}\n{ran.stdout}"
    lines = ran.stdout.strip().splitlines()
    assert lines, f"masto.js printed nothing:\n{ran.stderr}"
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def test_given_masto_js_when_a_poll_is_voted_on_and_a_mention_streams_then_it_reads_both(
    live_server: LiveServer,
) -> None:
    author, voter = live_server.people("mastojs", "mastovoter")

    result = _run_masto(live_server, author.token, voter.token)

    assert result["masto"] == "7.12.0"
    assert (result["author_id"], result["voter_id"]) == (author.id, voter.id)

    poll = result["poll"]
    titles = ["left", "right", "straight on"]
    assert [o["title"] for o in poll["posted"]["options"]] == titles
    assert poll["posted"]["multiple"] is True and poll["posted"]["votes_count"] == 0
    assert poll["vote"]["voted"] is True and poll["vote"]["own_votes"] == [0, 2]
    # One vote per person: the second try is refused as Mastodon refuses it.
    assert poll["vote_again"]["status"] == 422, poll["vote_again"]
    for view in ("as_voter", "as_author", "in_status"):
        shown = poll[view]
        assert shown["id"] == poll["posted"]["id"], view
        assert [(o["title"], o["votes_count"]) for o in shown["options"]] == [
            ("left", 1),
            ("right", 0),
            ("straight on", 1),
        ], view
        assert (shown["votes_count"], shown["voters_count"]) == (2, 1), view
        assert shown["expired"] is False, view
    assert poll["as_voter"]["own_votes"] == [0, 2]
    # As on Mastodon, the author counts as having voted on their own poll.
    assert poll["as_author"]["voted"] is True and poll["as_author"]["own_votes"] == []

    # What masto.js read back is what the server holds.
    held = author.api.poll(poll["posted"]["id"])
    assert [o["votes_count"] for o in held["options"]] == [1, 0, 1]

    streaming = result["streaming"]
    assert streaming["streaming_url"] == live_server.url.replace("http://", "ws://", 1)
    assert 1 <= streaming["probes"] <= 10
    mention = voter.api.status(streaming["status_id"])
    assert [str(m["id"]) for m in mention["mentions"]] == [author.id]
    assert streaming["update"] == {
        "stream": ["user"],
        "id": streaming["status_id"],
        "account_id": voter.id,
        "mentions": [author.id],
    }
    assert streaming["notification"] == {
        "stream": ["user"],
        "type": "mention",
        "account_id": voter.id,
        "status_id": streaming["status_id"],
    }
