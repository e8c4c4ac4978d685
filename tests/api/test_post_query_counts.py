"""Posting asks the database a bounded number of times: on the request path
(the answer included) and in the jobs the post leaves, which run apart from
it (bench.routes --statements measures both)."""

from __future__ import annotations

from tests.api.test_read_query_counts import counted
from tests.conftest import Roost

TEXT = "Morning walk along the river, for @friend #garden"


def _scene(roost: Roost) -> tuple[object, object]:
    author, friend = roost.account("author"), roost.account("friend")
    for n in range(3):
        roost.account(f"reader{n}").follow(author)
    author.post_status("The first post, which warms the caches #garden")
    roost.drain_jobs()
    return author, friend


def test_given_a_mention_and_a_tag_when_posted_then_the_request_asks_at_most_13_times(
    roost: Roost,
) -> None:
    author, _ = _scene(roost)

    # The request: the token (a prepared read), the author's posting
    # defaults (one prepared read, the default quote policy with them, not
    # read again in the transaction),
    # the post written (its mention, tag, counts and jobs; whether the
    # author moved asked by the statement that counts the post), and the
    # answer made from what the write produced, with three prepared reads
    # (the post's row through the policy, the mentioned account, the
    # post's extras), not read back through SQLAlchemy. The page cache is
    # told the post's parent, not left to read it back.
    with counted(roost) as seen:
        response = author.post("/api/v1/statuses", json={"status": TEXT})  # type: ignore[attr-defined]

    assert response.status_code == 200, response.text
    assert response.json()["mentions"][0]["username"] == "friend"
    assert len(seen) <= 13, "\n".join(seen)


def test_given_a_mention_and_a_tag_when_its_jobs_run_then_they_ask_at_most_55_times(
    roost: Roost,
) -> None:
    author, friend = _scene(roost)
    author.post_status(TEXT)  # type: ignore[attr-defined]

    # The jobs: the notification of the mention, the fan-out, where the post
    # goes on other servers (nowhere: it neither quotes nor is a boost, so
    # neither is asked about), the search index and spam clustering.
    with counted(roost) as seen:
        roost.drain_jobs()

    # The jobs did their work: the mention is a notification.
    notified = friend.get("/api/v1/notifications").json()  # type: ignore[attr-defined]
    assert [n["type"] for n in notified] == ["mention"]
    assert len(seen) <= 55, "\n".join(seen)
