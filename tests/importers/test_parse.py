"""Reading ``window.YTD`` files: streamed, exact, and refused with a reason."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roost.importers.twitter import parse
from roost.importers.twitter.parse import (
    ArchiveFormatError,
    conversation_messages,
    read_manifest,
    read_ytd,
)
from roost.importers.twitter.tweets import parse_date, tweet_from_json
from tests.importers.builder import classic_date, ytd


def _stream(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode())


@pytest.fixture
def tiny_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of a few characters: every value straddles a chunk boundary."""
    monkeypatch.setattr(parse, "CHUNK_CHARS", 7)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(entries=st.lists(json_values, max_size=6), chunk=st.integers(1, 64))
@settings(max_examples=200, deadline=None)
def test_any_array_reads_back_element_by_element_whatever_the_chunk_size(
    entries: list[Any], chunk: int
) -> None:
    text = ytd("tweets", 3, entries)
    original = parse.CHUNK_CHARS
    parse.CHUNK_CHARS = chunk
    try:
        assert list(read_ytd(_stream(text), "data/tweets.js")) == entries
    finally:
        parse.CHUNK_CHARS = original


def test_given_a_byte_order_mark_and_a_trailing_semicolon_then_it_still_reads(
    tiny_chunks: None,
) -> None:
    raw = '\ufeffwindow.YTD.like.part0 = [ {"like": {"tweetId": "1"}} ];\n'.encode()
    assert list(read_ytd(io.BytesIO(raw), "like.js")) == [{"like": {"tweetId": "1"}}]


def test_given_multibyte_text_split_across_chunks_then_characters_survive(
    tiny_chunks: None,
) -> None:
    entries = [{"t": "héron 🐦 鷺"} for _ in range(5)]
    assert list(read_ytd(_stream(ytd("tweets", 0, entries)), "t.js")) == entries


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("var tweets = []", "does not start with window.YTD"),
        ("Grailbird.data.tweets_2012_01 = []", "pre-2019"),
        ('window.YTD.tweets.part0 = [ {"a": 1} {"b": 2} ]', "expected ',' or ']'"),
        ('window.YTD.tweets.part0 = [ {"a": tru} ]', "broken JSON"),
        ('window.YTD.tweets.part0 = [ {"a": 1}', "found 'the end'"),
        ('window.YTD.tweets.part0 = [ {"a": 1, ', "broken JSON"),
        ("window.YTD.tweets.part0 = [ 1 ] alert(1)", "something follows the array"),
    ],
)
def test_given_a_malformed_file_then_it_is_refused_with_a_reason(text: str, says: str) -> None:
    with pytest.raises(ArchiveFormatError) as refused:
        list(read_ytd(_stream(text), "data/tweets.js"))
    assert says in refused.value.message and "data/tweets.js" in refused.value.message


def test_given_a_broken_value_early_then_the_reader_does_not_read_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads: list[int] = []

    class Counting(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            reads.append(1)
            return super().read(size)

    monkeypatch.setattr(parse, "CHUNK_CHARS", 64)
    body = '[ {"a": tru}, ' + ", ".join(['{"b": 1}'] * 2000) + "]"
    with pytest.raises(ArchiveFormatError):
        list(read_ytd(Counting(f"window.YTD.x.part0 = {body}".encode()), "x.js"))
    assert len(reads) < 10  # the whole file takes over 300


def test_given_a_conversation_then_its_messages_stream_one_by_one(tiny_chunks: None) -> None:
    conversations = [
        {
            "dmConversation": {
                "conversationId": "1-2",
                "messages": [{"messageCreate": {"id": str(i), "text": f"m{i}"}} for i in range(4)],
            }
        },
        {"dmConversation": {"messages": [{"joinConversation": {}}], "conversationId": "g"}},
    ]
    found = list(conversation_messages(_stream(ytd("direct_messages", 0, conversations)), "dm"))
    assert [(c, m.get("messageCreate", {}).get("text")) for c, m in found] == [
        ("1-2", "m0"),
        ("1-2", "m1"),
        ("1-2", "m2"),
        ("1-2", "m3"),
        ("", None),
    ]


def test_given_a_manifest_then_its_object_is_read() -> None:
    config = {"dataTypes": {"tweets": {"files": [{"fileName": "data/tweets.js"}]}}}
    text = "window.__THAR_CONFIG = " + json.dumps(config, indent=2)
    assert read_manifest(_stream(text), "data/manifest.js") == config


@given(st.datetimes(min_value=datetime(2006, 3, 21)))
def test_any_classic_date_parses_to_the_same_moment_without_the_locale(moment: datetime) -> None:
    aware = moment.replace(tzinfo=UTC, microsecond=0)
    assert parse_date(classic_date(aware)) == aware


def test_given_an_offset_or_iso_date_then_both_become_utc() -> None:
    assert parse_date("Sat Feb 18 19:45:15 +0130 2023").isoformat() == "2023-02-18T18:15:15+00:00"
    assert parse_date("2023-02-18T19:45:15.000Z").isoformat() == "2023-02-18T19:45:15+00:00"


def test_given_both_layouts_then_a_tweet_reads_the_same() -> None:
    bare = {"id_str": "20", "full_text": "hi", "created_at": "Tue Mar 21 20:50:14 +0000 2006"}
    assert tweet_from_json({"tweet": bare}) == tweet_from_json(bare)
    assert tweet_from_json(bare).id == 20
