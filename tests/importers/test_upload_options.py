"""The archive upload's text fields, as the one receiver (roost/ops/import_upload.py)
reads them for the API and the web page alike."""

from __future__ import annotations

import pytest

from roost.domain.types import Visibility
from roost.errors import Invalid, RuleBroken
from roost.ops.import_upload import import_options


def test_given_no_fields_when_read_then_public_and_every_flag_off() -> None:
    options = import_options({})
    assert options.visibility is Visibility.PUBLIC
    assert (options.skip_retweets, options.include_dms, options.force) == (False, False, False)


def test_given_flags_in_any_true_spelling_when_read_then_each_is_on() -> None:
    options = import_options(
        {"visibility": "unlisted", "skip_retweets": "on", "include_dms": "TRUE", "force": "1"}
    )
    assert options.visibility is Visibility.UNLISTED
    assert (options.skip_retweets, options.include_dms, options.force) == (True, True, True)
    assert import_options({"force": "no"}).force is False


@pytest.mark.parametrize("visibility", ["direct", "everyone"])
def test_given_a_visibility_an_import_may_not_use_when_read_then_refused(
    visibility: str,
) -> None:
    with pytest.raises(RuleBroken, match="visibility must be public, unlisted or private"):
        import_options({"visibility": visibility})


def test_given_nul_characters_when_read_then_each_field_is_named() -> None:
    with pytest.raises(Invalid) as refused:
        import_options({"force": "\x00", "visibility": "a\x00", "archive": "\x00"})
    assert refused.value.message == (
        "Validation failed: visibility must not contain nul characters; "
        "force must not contain nul characters"
    )
