"""Which streams a subscription names: a list stream needs a list id."""

from __future__ import annotations

import pytest

from roost.domain.streams import Stream, parse_stream


@pytest.mark.parametrize(
    "raw", ["¹", "①", "٣", str(2**63), "99999999999999999999", "-5", "+7", "0"]
)
def test_given_a_list_stream_with_a_malformed_id_then_it_names_no_stream(raw: str) -> None:
    """``"¹".isdigit()`` is true; the event router's int("¹") then failed."""
    assert parse_stream("list", {"list": raw}) is None


def test_given_a_list_stream_with_an_id_then_it_is_that_list() -> None:
    assert parse_stream("list", {"list": " 12 "}) == Stream("list", "12")
