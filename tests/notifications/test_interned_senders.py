"""Senders' accounts are one object per account as it stands
(roost/domain/accounts/interned.py): a page of notifications read again
renders no account anew, a changed account is a new object, and erasure
drops them all."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from roost.api.mastodon import json_cache
from roost.db.tables import accounts
from roost.domain.accounts import interned
from roost.domain.types import ACCOUNT_COLUMNS
from tests.conftest import Roost


def _row(**changed: Any) -> dict[str, Any]:
    row: dict[str, Any] = {name: None for name in ACCOUNT_COLUMNS}
    row.update(
        id=7,
        username="alice",
        display_name="Alice",
        note="",
        note_html="",
        fields=[{"name": "site", "value": "example.org"}],
        locked=False,
        bot=False,
        discoverable=True,
        indexable=True,
        hide_collections=False,
        followers_count=1,
        following_count=2,
        statuses_count=3,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    row.update(changed)
    return row


def test_given_rows_with_the_same_values_then_one_object_and_a_change_makes_another() -> None:
    interned.forget_all()
    first = interned.interned(_row())
    assert interned.interned(_row()) is first
    renamed = interned.interned(_row(display_name="Alice B."))
    assert renamed is not first and renamed.display_name == "Alice B."
    refielded = interned.interned(_row(fields=[{"name": "site", "value": "example.com"}]))
    assert refielded is not first
    assert set(ACCOUNT_COLUMNS) <= set(accounts.c.keys())


def test_given_a_full_store_then_the_oldest_goes_first(monkeypatch: Any) -> None:
    interned.forget_all()
    monkeypatch.setattr(interned, "CAPACITY", 3)
    made = [interned.interned(_row(id=n)) for n in range(4)]
    assert interned.interned(_row(id=3)) is made[3]
    assert interned.interned(_row(id=0)) is not made[0]  # it went first
    assert interned.forget_all() == 3


def test_given_a_page_of_notifications_when_read_again_then_no_account_is_rendered_anew(
    roost: Roost,
) -> None:
    # Given alice's post, favourited by three others
    alice = roost.account("alice")
    post = alice.post_status("favourite me")
    for name in ("bob", "carol", "dave"):
        assert (
            roost.account(name).post(f"/api/v1/statuses/{post['id']}/favourite").status_code == 200
        )
    roost.drain_jobs()
    first = alice.get("/api/v1/notifications")
    assert first.status_code == 200 and len(first.json()) == 3
    # When the page is read again
    before = len(json_cache.ACCOUNTS._entries)
    again = alice.get("/api/v1/notifications")
    # Then it is the same, and the cache of account JSON did not grow
    assert again.json() == first.json()
    assert len(json_cache.ACCOUNTS._entries) == before


def test_given_an_erasure_then_the_kept_account_objects_go(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    post = alice.post_status("favourite me")
    assert bob.post(f"/api/v1/statuses/{post['id']}/favourite").status_code == 200
    roost.drain_jobs()
    assert alice.get("/api/v1/notifications").json()[0]["account"]["username"] == "bob"
    assert any(a.username == "bob" for a in interned._KEPT.values())
    erased = bob.post("/api/v1/roost/account/erase", json={"password": "correct horse battery"})
    assert erased.status_code == 200, erased.text
    assert "account objects" in erased.json()["stores"]
    assert not any(a.username == "bob" for a in interned._KEPT.values())
