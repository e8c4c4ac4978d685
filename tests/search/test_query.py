"""Search query parsing: operators, phrases, and never an error."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from roost.search.postgres import tsquery_literal, tsvector_literal
from roost.search.query import SearchQuery, parse
from roost.search.sqlite import match_expression, words_match
from roost.search.text import words


def test_given_accents_case_and_punctuation_when_cut_into_words_then_plain_words() -> None:
    assert words("Crème BRÛLÉE, naïve café!") == ["creme", "brulee", "naive", "cafe"]
    assert words("#python @alice e-mail snake_case") == [
        "python",
        "alice",
        "e",
        "mail",
        "snake",
        "case",
    ]


def test_given_words_phrases_and_exclusions_when_parsed_then_each_lands_in_its_place() -> None:
    query = parse('cats "black cat" -dogs -"wet dog" +fish')
    assert query.include == (("cats",), ("black", "cat"), ("fish",))
    assert query.exclude == (("dogs",), ("wet", "dog"))
    assert query.searchable


def test_given_operators_when_parsed_then_they_narrow_and_are_not_searched_as_words() -> None:
    query = parse("tea from:me has:media after:2024-05-01 before:2024-06-01")
    assert query.include == (("tea",),)
    assert query.from_me and query.has_media is True
    assert query.since == datetime(2024, 5, 2, tzinfo=UTC)
    assert query.until == datetime(2024, 6, 1, tzinfo=UTC)
    assert parse("tea -has:media").has_media is False
    assert parse("tea from:@Bob").from_username == "bob"
    during = parse("tea during:2024-05-01")
    assert during.since == datetime(2024, 5, 1, tzinfo=UTC)
    assert during.until == datetime(2024, 5, 2, tzinfo=UTC)


def test_given_operators_it_does_not_understand_when_parsed_then_searched_literally() -> None:
    assert parse("before:yesterday").include == (("before", "yesterday"),)
    assert parse("colour:red").include == (("colour", "red"),)
    assert parse("has:cake").include == (("has", "cake"),)
    assert parse('"unclosed quote here').include == (("unclosed", "quote", "here"),)
    assert parse("after:9999-12-31").include == (("after", "9999", "12", "31"),)


def test_given_contradictions_when_parsed_then_nothing_can_match() -> None:
    assert not parse("tea after:2024-06-01 before:2024-05-01").searchable
    assert not parse("tea from:alice from:bob").searchable
    assert not parse("tea has:media -has:media").searchable


def test_given_only_operators_or_exclusions_when_parsed_then_nothing_to_search() -> None:
    assert not parse("from:me").searchable
    assert not parse("-spoilers").searchable
    assert not parse("!!! ???").searchable
    assert not parse("").searchable


def _fts5() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.execute(
        "CREATE VIRTUAL TABLE search_statuses USING fts5("
        "body, meta, tokenize = 'unicode61 remove_diacritics 0')"
    )
    return db


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_given_any_text_when_parsed_and_matched_then_fts5_accepts_it_and_agrees(
    text: str,
) -> None:
    """Whatever is typed, the FTS5 expression is valid and finds exactly the
    posts the Python matcher (and PostgreSQL's literals) would."""
    query = parse(text)
    if not query.searchable:
        return
    db = _fts5()
    documents = [" ".join(words(text)), "unrelated words only", " ".join(reversed(words(text)))]
    for rowid, body in enumerate(documents, start=1):
        db.execute(
            "INSERT INTO search_statuses (rowid, body, meta) VALUES (?, ?, 'a1')", (rowid, body)
        )
    found = {
        r[0]
        for r in db.execute(
            "SELECT rowid FROM search_statuses WHERE search_statuses MATCH ?",
            (match_expression(query, ['"a1"']),),
        )
    }
    expected = {i for i, body in enumerate(documents, start=1) if words_match(body, query)}
    assert found == expected
    assert tsquery_literal(query)
    tsvector_literal(words(text))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_given_any_text_when_parsed_then_never_raises(text: str) -> None:
    assert isinstance(parse(text), SearchQuery)
