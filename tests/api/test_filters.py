"""Filters: keywords and posts that warn about or hide posts, per context."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roost.domain.filters import apply
from roost.domain.filters.apply import keyword_pattern
from tests.conftest import Roost, User


def _filter(user: User, **fields: Any) -> dict[str, Any]:
    body = {"title": "Spoilers", "context": ["home", "public"], **fields}
    response = user.post("/api/v2/filters", json=body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def _timeline(user: User, path: str) -> dict[str, list[Any]]:
    response = user.get(path)
    assert response.status_code == 200, response.text
    return {s["id"]: s["filtered"] for s in response.json()}


def test_given_a_form_with_rails_style_keywords_then_each_keyword_keeps_its_fields(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    # Rails gathers ``[][field]`` entries into one record until a field repeats,
    # so the order of the form's fields matters.
    ordered = roost.client.post(
        "/api/v2/filters",
        content=(
            "title=test&context[]=public&keywords_attributes[][keyword]=foo"
            "&keywords_attributes[][whole_word]=false&keywords_attributes[][keyword]=bar"
            "&keywords_attributes[][whole_word]=true"
        ),
        headers={**alice.headers, "Content-Type": "application/x-www-form-urlencoded"},
    ).json()
    assert [(k["keyword"], k["whole_word"]) for k in ordered["keywords"]] == [
        ("foo", False),
        ("bar", True),
    ]
    assert ordered["filter_action"] == "warn" and ordered["expires_at"] is None
    assert ordered["context"] == ["public"] and ordered["statuses"] == []


def test_given_a_filter_when_changed_then_keywords_are_added_changed_and_destroyed(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    made = _filter(alice, keywords_attributes=[{"keyword": "foo"}, {"keyword": "bar"}])
    foo, bar = made["keywords"]
    changed = alice.put(
        f"/api/v2/filters/{made['id']}",
        json={
            "title": "Renamed",
            "filter_action": "hide",
            "expires_in": 3600,
            "keywords_attributes": [
                {"id": foo["id"], "_destroy": True},
                {"id": bar["id"], "keyword": "baz", "whole_word": False},
                {"keyword": "new"},
            ],
        },
    ).json()
    assert changed["title"] == "Renamed" and changed["filter_action"] == "hide"
    assert changed["expires_at"] is not None
    assert [(k["keyword"], k["whole_word"]) for k in changed["keywords"]] == [
        ("baz", False),
        ("new", True),
    ]
    assert alice.get("/api/v2/filters").json() == [changed]
    unknown = alice.put(
        f"/api/v2/filters/{made['id']}", json={"keywords_attributes": [{"id": "999"}]}
    )
    assert unknown.status_code == 404
    assert alice.delete(f"/api/v2/filters/{made['id']}").json() == {}
    assert alice.get(f"/api/v2/filters/{made['id']}").status_code == 404


def test_given_bad_input_or_someone_elses_filter_then_422_or_404(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    assert alice.post("/api/v2/filters", json={"title": "x"}).status_code == 422
    assert alice.post("/api/v2/filters", json={"title": "", "context": ["home"]}).status_code == 422
    bad = {"title": "x", "context": ["everywhere"]}
    assert alice.post("/api/v2/filters", json=bad).status_code == 422
    bad_action = {"title": "x", "context": ["home"], "filter_action": "explode"}
    assert alice.post("/api/v2/filters", json=bad_action).status_code == 422
    made = _filter(alice, keywords_attributes=[{"keyword": "foo"}])
    keyword_id = made["keywords"][0]["id"]
    for path in (
        f"/api/v2/filters/{made['id']}",
        f"/api/v2/filters/{made['id']}/keywords",
        f"/api/v2/filters/keywords/{keyword_id}",
        f"/api/v1/filters/{keyword_id}",
        "/api/v2/filters/12345",
        "/api/v2/filters/nope",
    ):
        assert bob.get(path).status_code == 404, path
    assert bob.delete(f"/api/v2/filters/{made['id']}").status_code == 404
    blank = alice.post(f"/api/v2/filters/{made['id']}/keywords", json={"keyword": " "})
    assert blank.status_code == 422
    nul = alice.post(f"/api/v2/filters/{made['id']}/keywords", json={"keyword": "a\x00"})
    assert nul.status_code == 422


def test_given_warn_and_hide_filters_then_home_hides_and_public_warns(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    alice.follow(bob)
    _filter(
        alice,
        title="Hide cats at home",
        context=["home"],
        filter_action="hide",
        keywords_attributes=[{"keyword": "cat", "whole_word": True}],
    )
    _filter(
        alice,
        title="Warn about dogs",
        context=["home", "public"],
        keywords_attributes=[{"keyword": "dog", "whole_word": False}],
    )
    cat = bob.post_status("My Cat!")
    concat = bob.post_status("concatenate strings")
    dogs = bob.post_status("Hotdogs for lunch")
    home = _timeline(alice, "/api/v1/timelines/home")
    assert list(home) == [dogs["id"], concat["id"]]
    assert home[concat["id"]] == []
    (warning,) = home[dogs["id"]]
    assert warning["keyword_matches"] == ["dog"] and warning["status_matches"] is None
    assert warning["filter"]["title"] == "Warn about dogs"
    assert warning["filter"]["filter_action"] == "warn"
    public = _timeline(alice, "/api/v1/timelines/public")
    # The hide filter is for home only: on public the post shows, and carries
    # the matching filter so that apps can tell why it would be hidden at home.
    assert list(public) == [dogs["id"], concat["id"], cat["id"]]
    assert public[cat["id"]][0]["filter"]["filter_action"] == "hide"
    assert alice.get(f"/api/v1/statuses/{cat['id']}").json()["filtered"][0]["keyword_matches"] == [
        "cat"
    ]


def test_given_a_boost_then_it_is_judged_by_the_boosted_post(roost: Roost) -> None:
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    alice.follow(bob)
    _filter(
        alice, context=["home"], filter_action="hide", keywords_attributes=[{"keyword": "ending"}]
    )
    spoiler = carol.post_status("The ending was great")
    bob.post(f"/api/v1/statuses/{spoiler['id']}/reblog")
    assert _timeline(alice, "/api/v1/timelines/home") == {}


def test_given_the_viewers_own_posts_then_never_filtered(roost: Roost) -> None:
    alice = roost.account("alice")
    _filter(
        alice, context=["home"], filter_action="hide", keywords_attributes=[{"keyword": "mine"}]
    )
    own = alice.post_status("mine mine mine")
    assert _timeline(alice, "/api/v1/timelines/home") == {own["id"]: []}


def test_given_notifications_and_threads_then_their_contexts_apply(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    _filter(
        alice,
        context=["notifications", "thread"],
        filter_action="hide",
        keywords_attributes=[{"keyword": "rude"}],
    )
    root = alice.post_status("A question")
    polite = bob.post_status("@alice a polite answer", in_reply_to_id=root["id"])
    rude = bob.post_status("@alice a rude answer", in_reply_to_id=root["id"])
    roost.drain_jobs()
    notified = [n["status"]["id"] for n in alice.get("/api/v1/notifications").json()]
    assert notified == [polite["id"]]
    thread = alice.get(f"/api/v1/statuses/{root['id']}/context").json()
    assert [s["id"] for s in thread["descendants"]] == [polite["id"]]
    assert rude["id"] not in [s["id"] for s in thread["descendants"]]


def test_given_a_post_in_a_filter_then_it_matches_by_id(roost: Roost) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    alice.follow(bob)
    made = _filter(alice, context=["home"])
    post = bob.post_status("nothing special")
    added = alice.post(f"/api/v2/filters/{made['id']}/statuses", json={"status_id": post["id"]})
    assert added.status_code == 200 and added.json()["status_id"] == post["id"]
    again = alice.post(f"/api/v2/filters/{made['id']}/statuses", json={"status_id": post["id"]})
    assert again.status_code == 422
    (match,) = _timeline(alice, "/api/v1/timelines/home")[post["id"]]
    assert match["status_matches"] == [post["id"]] and match["keyword_matches"] is None
    status_filter = added.json()["id"]
    assert alice.get(f"/api/v2/filters/statuses/{status_filter}").json() == added.json()
    assert alice.delete(f"/api/v2/filters/statuses/{status_filter}").json() == {}
    assert _timeline(alice, "/api/v1/timelines/home")[post["id"]] == []


def test_given_an_expired_filter_then_it_no_longer_applies(
    roost: Roost, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    alice.follow(bob)
    _filter(
        alice,
        context=["home"],
        filter_action="hide",
        expires_in=60,
        keywords_attributes=[{"keyword": "soon"}],
    )
    post = bob.post_status("coming soon")
    assert _timeline(alice, "/api/v1/timelines/home") == {}
    later = datetime.now(UTC) + timedelta(minutes=2)
    monkeypatch.setattr(apply, "utcnow", lambda: later)
    assert _timeline(alice, "/api/v1/timelines/home") == {post["id"]: []}
    assert len(alice.get("/api/v2/filters").json()) == 1  # still listed


def test_given_keyword_endpoints_then_one_keyword_at_a_time(roost: Roost) -> None:
    alice = roost.account("alice")
    made = _filter(alice)
    added = alice.post(f"/api/v2/filters/{made['id']}/keywords", json={"keyword": "some"}).json()
    assert added["keyword"] == "some" and added["whole_word"] is True
    changed = alice.put(
        f"/api/v2/filters/keywords/{added['id']}", json={"keyword": "other", "whole_word": False}
    ).json()
    assert changed == {"id": added["id"], "keyword": "other", "whole_word": False}
    assert alice.get(f"/api/v2/filters/{made['id']}/keywords").json() == [changed]
    assert alice.delete(f"/api/v2/filters/keywords/{added['id']}").json() == {}
    assert alice.get(f"/api/v2/filters/keywords/{added['id']}").status_code == 404


def test_given_the_v1_api_then_phrases_are_keywords_of_v2_filters(roost: Roost) -> None:
    alice = roost.account("alice")
    made = alice.post(
        "/api/v1/filters",
        data={"phrase": "eurovision", "context[]": ["home"], "irreversible": "true"},
    ).json()
    assert made["phrase"] == "eurovision" and made["irreversible"] is True
    assert made["whole_word"] is False and made["context"] == ["home"]
    (v2,) = alice.get("/api/v2/filters").json()
    assert v2["title"] == "eurovision" and v2["filter_action"] == "hide"
    assert v2["keywords"][0]["id"] == made["id"]
    updated = alice.put(
        f"/api/v1/filters/{made['id']}",
        json={"phrase": "song contest", "context": ["home", "public"], "irreversible": False},
    ).json()
    assert updated["phrase"] == "song contest" and updated["irreversible"] is False
    assert alice.get("/api/v1/filters").json() == [updated]
    assert alice.delete(f"/api/v1/filters/{made['id']}").json() == {}
    assert alice.get("/api/v2/filters").json() == []


@given(
    keyword=st.text(min_size=1, max_size=12),
    before=st.text(max_size=8),
    after=st.text(max_size=8),
)
def test_given_any_keyword_then_it_matches_itself_and_whole_words_respect_boundaries(
    keyword: str, before: str, after: str
) -> None:
    text = f"{before}{keyword}{after}"
    assert keyword_pattern(keyword, whole_word=False).search(text)
    if keyword.strip() and keyword[0].isalnum() and keyword[-1].isalnum():
        glued = f"x{keyword}x"
        assert not keyword_pattern(keyword, whole_word=True).fullmatch(glued)
        assert keyword_pattern(keyword, whole_word=True).search(f"({keyword})")
