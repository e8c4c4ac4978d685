"""A tweet's text as a post, and the ids imported posts get."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

from hypothesis import assume, given
from hypothesis import strategies as st

from roost.ids import id_for_time, new_id
from roost.importers.twitter import mapping
from roost.importers.twitter.notes import NoteIndex
from roost.importers.twitter.store import salt_for
from roost.importers.twitter.tweets import Media, Tweet, snowflake_time, tweet_from_json

BASE = "https://roost.example"


def _tweet(text: str, **fields: object) -> Tweet:
    body: dict[str, object] = {
        "id_str": "1400000000000000000",
        "full_text": text,
        "created_at": "2021-06-02T01:02:03Z",
    }
    body.update(fields)
    return tweet_from_json({"tweet": body})


short_links = st.from_regex(r"https://t\.co/[A-Za-z0-9]{10}", fullmatch=True)
# "&lt=" and "&copy=" in a query look like entities to an unescaper.
urls = st.from_regex(
    r"https://[a-z]{1,10}\.example/[a-z0-9?=_-]{0,12}(&(lt|copy|amp|x)=[0-9]{1,3}){0,2}",
    fullmatch=True,
)


@given(
    words=st.lists(st.text(min_size=0, max_size=12), max_size=8),
    links=st.dictionaries(short_links, urls, max_size=3),
    dropped=st.sets(short_links, max_size=2),
)
def test_any_text_expands_every_known_link_and_unescapes_without_crashing(
    words: list[str], links: dict[str, str], dropped: set[str]
) -> None:
    assume(not dropped & set(links))
    escaped = [html.escape(w, quote=False) for w in words]
    text = " ".join(escaped + list(links) + list(dropped))

    result = mapping.expand(text, links, frozenset(dropped))

    for short, long in links.items():
        assert short not in result or short in long
        assert long in result
    for short in dropped:
        assert short not in result
    rendered = mapping.render(result, BASE)
    assert "<script" not in rendered.html


@given(st.text(max_size=200))
def test_any_text_renders_without_mentions_of_local_accounts(text: str) -> None:
    rendered = mapping.render(text, BASE)
    assert rendered.mentioned_ids == []
    assert f"{BASE}/@" not in rendered.html


@given(
    first=st.datetimes(min_value=datetime(2006, 3, 21), max_value=datetime(2030, 1, 1)),
    gap_ms=st.integers(min_value=1, max_value=10**10),
    tweets=st.tuples(st.integers(1, 2**62), st.integers(1, 2**62)),
)
def test_imported_ids_sort_by_original_date_whatever_the_salt(
    first: datetime, gap_ms: int, tweets: tuple[int, int]
) -> None:
    earlier = first.replace(tzinfo=UTC)
    later = earlier + timedelta(milliseconds=gap_ms)
    assert id_for_time(earlier, salt_for(7, tweets[0])) < id_for_time(later, salt_for(7, tweets[1]))


def test_given_an_imported_post_from_a_second_ago_then_it_sorts_below_a_live_post() -> None:
    moment = datetime.now(UTC) - timedelta(seconds=1)
    assert id_for_time(moment, salt_for(1, 2)) < new_id()


def test_given_the_same_tweet_twice_then_the_salt_is_the_same_and_in_the_upper_half() -> None:
    assert salt_for(5, 123) == salt_for(5, 123)
    assert all(0x8000 <= salt_for(5, t) <= 0xFFFF for t in range(200))


def test_given_a_snowflake_then_its_time_is_read_from_it() -> None:
    # 1627031510963441664 is from the published mock archive: Sat Feb 18 19:45:15 2023.
    moment = snowflake_time(1627031510963441664)
    assert moment is not None and moment.replace(microsecond=0) == datetime(
        2023, 2, 18, 19, 45, 15, tzinfo=UTC
    )
    assert snowflake_time(20) is None


def test_given_a_reply_to_someone_else_then_the_post_says_whom_it_answered() -> None:
    tweet = _tweet(
        "@heron indeed",
        in_reply_to_status_id_str="99",
        in_reply_to_user_id_str="5",
        in_reply_to_screen_name="heron",
    )
    text = mapping.post_text(tweet, self_reply=False)
    assert text == "In reply to @heron: https://twitter.com/heron/status/99\n\n@heron indeed"
    assert mapping.post_text(tweet, self_reply=True) == "@heron indeed"


def test_given_media_links_then_they_are_dropped_and_other_links_kept() -> None:
    tweet = _tweet("Look https://t.co/aaaaaaaaaa https://t.co/bbbbbbbbbb")
    with_media = Tweet(
        **{
            **{name: getattr(tweet, name) for name in Tweet.__dataclass_fields__},
            "urls": (("https://t.co/aaaaaaaaaa", "https://example.org/a"),),
            "media": (Media("https://t.co/bbbbbbbbbb", "photo", ("1-x.png",)),),
        }
    )
    assert mapping.post_text(with_media, self_reply=False) == "Look https://example.org/a"


def test_given_status_links_then_only_imported_ones_point_here() -> None:
    text = "a https://twitter.com/alice/status/11 b https://x.com/bob/status/22?s=20 c"
    rewritten = mapping.rewrite_links(text, {11: f"{BASE}/@alice/900"}, own_id=None)
    assert rewritten == f"a {BASE}/@alice/900 b https://x.com/bob/status/22?s=20 c"
    assert mapping.rewrite_links(text, {11: "x"}, own_id=11) == text


def test_given_handles_inside_links_then_only_bare_handles_are_linked() -> None:
    html_out = mapping.render("see https://medium.com/@writer/post and @reader", BASE).html
    assert html_out.count('href="https://twitter.com/reader"') == 1
    assert "https://twitter.com/writer" not in html_out


def test_given_a_long_post_then_its_note_is_found_by_time_and_beginning() -> None:
    tweet = _tweet("A long story about herons that goes on… https://t.co/xxxxxxxxxx")
    notes = NoteIndex()
    other = "Something else entirely, posted the same second"
    for text in (other, "A long story about herons that goes on and on and on."):
        notes.add({"noteTweet": {"createdAt": "2021-06-02T01:02:03.000Z", "core": {"text": text}}})
    found = notes.take(tweet)
    assert found is not None and found.text.endswith("on and on.")
    assert notes.take(tweet) is None
