"""Importing an archive: each tweet becomes the post it should, and nothing else
happens (no fan-out, no notifications), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from roost.db.tables import (
    accounts,
    jobs,
    mentions,
    notifications,
    statuses,
    twitter_direct_messages,
    twitter_imported_tweets,
    twitter_likes,
    twitter_relations,
)
from roost.domain.types import Visibility
from roost.importers.twitter.tweets import snowflake_time
from tests.conftest import Roost
from tests.importers.conftest import (
    count,
    posts_by_text,
    report_of,
    rich_archive,
    rows,
    run_import,
)


def test_given_the_rich_archive_when_imported_then_every_tweet_becomes_the_right_post(
    roost: Roost, tmp_path: Path
) -> None:
    alice = roost.account("alice")
    rich = rich_archive()
    path = rich.builder.write_zip(tmp_path / "twitter.zip")

    run = run_import(roost, alice, path)

    assert run.state == "done"
    posts = posts_by_text(roost, alice)
    link = posts["Fish & chips <3 https://example.org/fish"]
    # t.co expanded first, entities unescaped after: the URL keeps its "&".
    assert link["text"] == "Fish & chips <3 https://example.org/fish?x=1&y=2"
    assert 'href="https://example.org/fish?x=1&amp;y=2"' in link["content"]
    tweeted = snowflake_time(rich.ids["link"])
    assert tweeted is not None and link["created_at"] == tweeted
    # Ids sort by the original date: every imported post is older than now.
    assert all(p["id"] < int(alice.id) for p in posts.values())
    edited = posts["Spoonbills, typo fixed"]
    assert "Spoonbils tpyo" not in posts
    assert edited["created_at"] == snowflake_time(rich.ids["edited_first"])
    assert not any("albatross" in text for text in posts)
    assert posts["Circle and tweets: grebes"]["visibility"] == int(Visibility.PRIVATE)
    assert posts["Circle only: loons"]["visibility"] == int(Visibility.PRIVATE)
    assert posts["Thread start: herons"]["visibility"] == int(Visibility.PUBLIC)
    long = next(p for t, p in posts.items() if t.startswith("The beginning of a very long"))
    assert long["text"].endswith("and ends with flamingos https://example.org/flamingos")
    report = report_of(run)
    assert report.count("posts", "imported") == len(posts) == 15
    assert report.skipped["posts"] == {"earlier version of an edited tweet": 1}
    assert report.details["long posts completed from note-tweet.js"] == 1


def test_given_handles_in_tweets_when_imported_then_they_link_to_twitter_not_local_people(
    roost: Roost, tmp_path: Path
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    run_import(roost, alice, rich_archive().builder.write_folder(tmp_path / "archive"))
    roost.drain_jobs()

    post = posts_by_text(roost, alice)["@bob knows about #Birds and @carol too"]
    assert 'href="https://twitter.com/bob"' in post["content"]
    assert 'href="https://twitter.com/carol"' in post["content"]
    assert f"/@{bob.username}" not in post["content"]
    assert count(roost, mentions, mentions.c.status_id == post["id"]) == 0
    assert count(roost, notifications, notifications.c.account_id == int(bob.id)) == 0
    assert "/tags/birds" in post["content"]


def test_given_a_follower_when_history_is_imported_then_it_is_not_on_top_and_fans_out_nowhere(
    roost: Roost, tmp_path: Path
) -> None:
    alice, follower = roost.account("alice"), roost.account("follower")
    follower.follow(alice)
    roost.drain_jobs()
    today = alice.post_status("Posted today, after the move")
    roost.drain_jobs()

    run_import(roost, alice, rich_archive().builder.write_zip(tmp_path / "a.zip"))

    kinds = {r["kind"] for r in rows(roost, select(jobs.c.kind))}
    assert "status.published" not in kinds and "notify" not in kinds
    roost.drain_jobs()
    home = follower.get("/api/v1/timelines/home").json()
    assert home[0]["id"] == today["id"]
    assert all(datetime.fromisoformat(s["created_at"]).year == 2021 for s in home[1:])
    assert follower.get("/api/v1/notifications").json() == []
    account = rows(roost, select(accounts).where(accounts.c.id == int(alice.id)))[0]
    assert account["statuses_count"] == 16
    assert account["last_status_at"].date() == datetime.now(UTC).date()


def test_given_replies_across_parts_then_threads_link_and_others_get_a_note(
    roost: Roost, tmp_path: Path
) -> None:
    alice = roost.account("alice")
    rich = rich_archive()
    run = run_import(roost, alice, rich.builder.write_zip(tmp_path / "a.zip"))

    posts = posts_by_text(roost, alice)
    root, middle = posts["Thread start: herons"], posts["Thread middle: egrets"]
    end = posts["Thread end: bitterns"]
    assert middle["in_reply_to_id"] == root["id"] and end["in_reply_to_id"] == middle["id"]
    assert root["replies_count"] == 1 and middle["replies_count"] == 1
    context = alice.get(f"/api/v1/statuses/{end['id']}/context").json()
    assert [s["id"] for s in context["ancestors"]] == [str(root["id"]), str(middle["id"])]
    other = next(p for t, p in posts.items() if "storks" in p["text"])
    assert other["in_reply_to_id"] is None
    assert other["text"].startswith(
        "In reply to @carol: https://twitter.com/carol/status/123456789"
    )
    assert report_of(run).details["replies threaded"] == 2


def test_given_retweets_and_quotes_then_they_link_to_the_original_or_the_imported_copy(
    roost: Roost, tmp_path: Path
) -> None:
    alice = roost.account("alice")
    rich = rich_archive()
    run_import(roost, alice, rich.builder.write_zip(tmp_path / "a.zip"))

    posts = posts_by_text(roost, alice)
    retweet = next(p for t, p in posts.items() if t.startswith("RT @dave"))
    assert retweet["text"].endswith(f"https://twitter.com/dave/status/{rich.ids['retweet']}")
    own = next(p for t, p in posts.items() if t.startswith("Still true"))
    root = posts["Thread start: herons"]
    assert own["text"] == f"Still true {roost.settings.base_url}/@alice/{root['id']}"
    other = posts["Look https://twitter.com/erin/status/111"]
    assert other["text"] == "Look https://twitter.com/erin/status/111222333"


def test_given_skip_retweets_and_unlisted_then_retweets_are_left_out_and_posts_unlisted(
    roost: Roost, tmp_path: Path
) -> None:
    alice = roost.account("alice")
    path = rich_archive().builder.write_zip(tmp_path / "a.zip")

    run = run_import(roost, alice, path, skip_retweets=True, visibility=Visibility.UNLISTED)

    posts = posts_by_text(roost, alice)
    assert not any(t.startswith("RT @dave") for t in posts)
    assert report_of(run).skipped["posts"]["retweet (--skip-retweets)"] == 1
    assert posts["Thread start: herons"]["visibility"] == int(Visibility.UNLISTED)
    assert posts["Circle only: loons"]["visibility"] == int(Visibility.PRIVATE)


def test_given_media_then_present_files_are_attached_and_missing_ones_reported(
    roost: Roost, tmp_path: Path
) -> None:
    alice = roost.account("alice")
    rich = rich_archive()
    run = run_import(roost, alice, rich.builder.write_zip(tmp_path / "a.zip"))

    post = posts_by_text(roost, alice)["Two pictures of ibises"]
    shown = alice.get(f"/api/v1/statuses/{post['id']}").json()
    assert [m["type"] for m in shown["media_attachments"]] == ["image"]
    assert "t.co" not in post["text"]
    report = report_of(run)
    assert report.count("media", "imported") == 1
    missing = [m for m in report.missing_media if m.startswith("tweets_media/")]
    assert missing == [f"tweets_media/{rich.ids['media']}-IBIS2.png"]


def test_given_the_profile_then_blank_fields_are_filled_and_links_expanded(
    roost: Roost, tmp_path: Path
) -> None:
    alice = roost.account("alice")
    alice.patch("/api/v1/accounts/update_credentials", json={"note": "Already written here"})
    run = run_import(roost, alice, rich_archive().builder.write_zip(tmp_path / "a.zip"))

    me = alice.get("/api/v1/accounts/verify_credentials").json()
    assert me["display_name"] == "Alice \U0001f426"
    assert me["source"]["note"] == "Already written here"
    assert {"name": "Website", "value": "https://alice.example.org"}.items() <= (
        me["source"]["fields"][0].items()
    )
    assert "missing.png" not in me["avatar"]
    report = report_of(run)
    assert "avatar" in report.profile and "bio" not in report.profile
    assert report.missing_media.count(f"profile_media/{1000001}-777") == 1


def test_given_likes_lists_and_messages_then_they_are_kept_and_counted(
    roost: Roost, tmp_path: Path
) -> None:
    alice = roost.account("alice")
    path = rich_archive().builder.write_zip(tmp_path / "a.zip")

    run = run_import(roost, alice, path, include_dms=True)

    owner = twitter_likes.c.account_id == int(alice.id)
    assert count(roost, twitter_likes, owner) == 2
    kinds = rows(roost, select(twitter_relations.c.kind))
    assert sorted(r["kind"] for r in kinds) == [
        "block",
        "follower",
        "follower",
        "follower",
        "following",
        "following",
        "mute",
    ]
    assert count(roost, twitter_direct_messages) == 3
    report = report_of(run)
    assert report.count("followers", "imported") == 3 and report.count("mutes", "imported") == 1
    assert report.count("direct_messages", "imported") == 3


def test_given_no_include_dms_then_messages_are_left_out_with_a_note(
    roost: Roost, tmp_path: Path
) -> None:
    alice = roost.account("alice")
    run = run_import(roost, alice, rich_archive().builder.write_zip(tmp_path / "a.zip"))

    assert count(roost, twitter_direct_messages) == 0
    assert any("--include-dms" in note for note in report_of(run).notes)


def test_given_an_imported_archive_when_imported_again_then_nothing_is_added(
    roost: Roost, tmp_path: Path
) -> None:
    alice = roost.account("alice")
    path = rich_archive().builder.write_zip(tmp_path / "a.zip")
    run_import(roost, alice, path, include_dms=True)
    before = {
        table.name: count(roost, table)
        for table in (statuses, twitter_likes, twitter_relations, twitter_direct_messages)
    }

    again = run_import(roost, alice, path, include_dms=True)

    after = {
        table.name: count(roost, table)
        for table in (statuses, twitter_likes, twitter_relations, twitter_direct_messages)
    }
    assert after == before
    report = report_of(again)
    assert report.count("posts", "imported") == 0
    # Every tweet, the earlier version of the edited one included.
    assert report.skipped["posts"] == {"already imported": 16}
    assert report.count("likes", "imported") == 0


def test_given_a_reply_whose_parent_comes_in_a_later_import_then_the_thread_joins(
    roost: Roost, tmp_path: Path
) -> None:
    alice = roost.account("alice")
    first = rich_archive().builder
    parent = first.tweet("Parent that the first archive lacks")
    reply = first.tweet("Reply from the first archive", reply_to=int(parent["id_str"]))
    first.tweets.remove(parent)
    quote = first.tweet(
        "Quoting the missing one https://t.co/quote00009",
        urls={"https://t.co/quote00009": f"https://twitter.com/alice/status/{parent['id_str']}"},
    )
    run = run_import(roost, alice, first.write_zip(tmp_path / "first.zip"))
    assert report_of(run).details["replies waiting for an earlier post not imported"] == 1
    quoting_id = next(
        p["id"]
        for p in posts_by_text(roost, alice).values()
        if p["text"].startswith("Quoting the missing")
    )

    def shown_quote() -> str:
        """The quoting post as alice's home shows it (through the caches of posts)."""
        page = alice.get("/api/v1/timelines/home", params={"max_id": quoting_id + 1, "limit": 1})
        assert page.status_code == 200 and page.json()[0]["id"] == str(quoting_id)
        return str(page.json()[0]["content"])

    assert "twitter.com/alice/status" in shown_quote()

    second = rich_archive().builder
    second.tweets = [parent]
    run_import(roost, alice, second.write_zip(tmp_path / "second.zip"))

    posts = posts_by_text(roost, alice)
    found_parent = posts["Parent that the first archive lacks"]
    assert posts["Reply from the first archive"]["in_reply_to_id"] == found_parent["id"]
    quoting = next(p for p in posts.values() if p["text"].startswith("Quoting the missing"))
    assert quoting["text"].endswith(f"/@alice/{found_parent['id']}")
    # The rewritten words reach readers at once, not the cached old ones.
    assert f"/@alice/{found_parent['id']}" in shown_quote()
    waiting = rows(
        roost,
        select(twitter_imported_tweets).where(
            twitter_imported_tweets.c.pending_parent_id.is_not(None)
        ),
    )
    assert [w["tweet_id"] for w in waiting] == []
    assert int(reply["id_str"]) and int(quote["id_str"])


def test_given_an_edit_made_after_an_earlier_import_then_the_post_takes_the_new_text(
    roost: Roost, tmp_path: Path
) -> None:
    alice = roost.account("alice")
    rich = rich_archive()
    before = rich.builder
    edited = next(t for t in before.tweets if t["id_str"] == str(rich.ids["edited"]))
    before.tweets.remove(edited)
    run_import(roost, alice, before.write_zip(tmp_path / "before.zip"))
    assert "Spoonbils tpyo" in posts_by_text(roost, alice)

    before.tweets.append(edited)
    run = run_import(roost, alice, before.write_zip(tmp_path / "after.zip"))

    posts = posts_by_text(roost, alice)
    assert "Spoonbills, typo fixed" in posts and "Spoonbils tpyo" not in posts
    assert report_of(run).count("posts", "imported") == 0


def test_given_the_2019_layout_with_a_manifest_less_tweet_js_then_it_imports(
    roost: Roost, tmp_path: Path
) -> None:
    alice = roost.account("alice")
    rich = rich_archive()
    rich.builder.layout = "2019"
    rich.builder.parts = 1

    run = run_import(roost, alice, rich.builder.write_zip(tmp_path / "2019.zip"))

    assert report_of(run).count("posts", "imported") == 15
    assert report_of(run).count("media", "imported") == 1


def test_given_a_manifest_then_every_part_it_names_is_read(roost: Roost, tmp_path: Path) -> None:
    alice = roost.account("alice")
    rich = rich_archive()
    rich.builder.manifest = True
    rich.builder.parts = 3

    run = run_import(roost, alice, rich.builder.write_folder(tmp_path / "archive"))

    assert report_of(run).count("posts", "imported") == 15
    middle = posts_by_text(roost, alice)["Thread middle: egrets"]
    assert middle["in_reply_to_id"] is not None


def test_given_imported_posts_when_the_jobs_run_then_search_finds_them(
    roost: Roost, tmp_path: Path
) -> None:
    alice = roost.account("alice")
    run_import(roost, alice, rich_archive().builder.write_zip(tmp_path / "a.zip"))
    roost.drain_jobs()

    found = alice.get("/api/v2/search", params={"q": "bitterns", "type": "statuses"}).json()

    assert [s["content"] for s in found["statuses"]] == ["<p>Thread end: bitterns</p>"]
