"""Discovery and reading over ActivityPub: WebFinger, host-meta, actors, posts
and collections, through the privacy policy as an anonymous viewer."""

from __future__ import annotations

import pytest

from roost.net import signatures
from tests.conftest import Roost

AP = {"Accept": "application/activity+json"}
LD = {"Accept": 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'}


def test_given_an_account_when_webfinger_asks_for_it_then_the_jrd_links_its_actor(
    roost: Roost,
) -> None:
    roost.account("alice")
    base, domain = roost.settings.base_url, roost.settings.domain
    for resource in (f"acct:alice@{domain}", f"{base}/@alice", f"{base}/users/alice"):
        answer = roost.client.get("/.well-known/webfinger", params={"resource": resource})
        assert answer.status_code == 200, resource
        assert answer.headers["content-type"].startswith("application/jrd+json")
        jrd = answer.json()
        assert jrd["subject"] == f"acct:alice@{domain}"
        links = {link["rel"]: link for link in jrd["links"]}
        assert links["self"] == {
            "rel": "self",
            "type": "application/activity+json",
            "href": f"{base}/users/alice",
        }
        assert links["http://webfinger.net/rel/profile-page"]["href"] == f"{base}/@alice"
    for missing in (f"acct:nobody@{domain}", "acct:alice@elsewhere.example", "mailto:alice"):
        answer = roost.client.get("/.well-known/webfinger", params={"resource": missing})
        assert answer.status_code == 404, missing
        assert answer.json() == {"error": "Record not found"}
    instance = roost.client.get(
        "/.well-known/webfinger", params={"resource": f"acct:{domain}@{domain}"}
    ).json()
    assert instance["links"][-1]["href"] == f"{base}/actor"
    meta = roost.client.get("/.well-known/host-meta")
    assert meta.headers["content-type"].startswith("application/xrd+xml")
    assert f'template="{base}/.well-known/webfinger?resource={{uri}}"' in meta.text


def test_given_a_missing_or_malformed_resource_when_webfinger_is_asked_then_400(
    roost: Roost,
) -> None:
    # RFC 7033, section 4.2 (and FediTest's WebFinger server tests 4.2-3, 4.2-4):
    # an absent or malformed resource is a bad request, not an unknown one.
    roost.account("alice")
    domain = roost.settings.domain
    malformed = (
        "/.well-known/webfinger",
        "/.well-known/webfinger?resource=",
        "/.well-known/webfinger?resource=alice",
        f"/.well-known/webfinger?resource=alice@{domain}",
        f"/.well-known/webfinger?resource==acct%3Aalice%40{domain}",
    )
    for path in malformed:
        answer = roost.client.get(path)
        assert answer.status_code == 400, path
        assert "error" in answer.json()
    assert (
        roost.client.get(f"/.well-known/webfinger?resource=acct:alice@{domain}").status_code == 200
    )


def test_given_an_account_when_its_actor_is_asked_for_then_it_has_mastodons_fields(
    roost: Roost,
) -> None:
    alice = roost.account("alice", locked=True)
    alice.patch(
        "/api/v1/accounts/update_credentials", data={"note": "Hi there", "display_name": "Alice A"}
    )
    base = roost.settings.base_url
    for accept in (AP, LD):
        answer = roost.client.get("/users/alice", headers=accept)
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith(accept["Accept"].split(";")[0])
    actor = roost.client.get("/users/alice", headers=AP).json()
    me = f"{base}/users/alice"
    assert actor["id"] == me and actor["type"] == "Person"
    assert actor["preferredUsername"] == "alice" and actor["name"] == "Alice A"
    assert "Hi there" in actor["summary"]
    assert actor["url"] == f"{base}/@alice"
    assert (actor["inbox"], actor["outbox"]) == (f"{me}/inbox", f"{me}/outbox")
    assert (actor["followers"], actor["following"]) == (f"{me}/followers", f"{me}/following")
    assert actor["featured"] == f"{me}/collections/featured"
    assert actor["endpoints"] == {"sharedInbox": f"{base}/inbox"}
    assert actor["manuallyApprovesFollowers"] is True
    assert {"discoverable", "indexable", "published"} <= set(actor)
    key = actor["publicKey"]
    assert (key["id"], key["owner"]) == (f"{me}#main-key", me)
    assert signatures.load_public_key(key["publicKeyPem"]).key_size == 2048
    # The same key every time: made once and stored.
    again = roost.client.get("/users/alice", headers=AP).json()
    assert again["publicKey"]["publicKeyPem"] == key["publicKeyPem"]
    # A browser is sent to the profile page.
    page = roost.client.get("/users/alice", follow_redirects=False)
    assert page.status_code == 302 and page.headers["location"] == "/@alice"
    assert roost.client.get("/users/nobody", headers=AP).status_code == 404


def test_given_posts_of_each_visibility_when_read_as_objects_then_only_public_and_unlisted_show(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    bob = roost.account("bob")
    base = roost.settings.base_url
    public = alice.post_status("hello #world @bob", spoiler_text="cw")
    unlisted = alice.post_status("quiet", visibility="unlisted")
    private = alice.post_status("friends only", visibility="private")
    direct = alice.post_status("@bob secret", visibility="direct")
    reply = bob.post_status("answer", in_reply_to_id=public["id"])

    note = roost.client.get(f"/users/alice/statuses/{public['id']}", headers=AP).json()
    assert note["id"] == f"{base}/users/alice/statuses/{public['id']}"
    assert note["type"] == "Note" and note["attributedTo"] == f"{base}/users/alice"
    assert note["to"] == ["https://www.w3.org/ns/activitystreams#Public"]
    assert f"{base}/users/alice/followers" in note["cc"] and f"{base}/users/bob" in note["cc"]
    assert note["summary"] == "cw" and note["url"] == f"{base}/@alice/{public['id']}"
    kinds = {tag["type"]: tag for tag in note["tag"]}
    assert kinds["Hashtag"]["name"] == "#world"
    assert kinds["Mention"]["href"] == f"{base}/users/bob"
    quiet = roost.client.get(f"/users/alice/statuses/{unlisted['id']}", headers=AP).json()
    assert quiet["to"] == [f"{base}/users/alice/followers"]
    answer = roost.client.get(f"/users/bob/statuses/{reply['id']}", headers=AP).json()
    assert answer["inReplyTo"] == note["id"]
    activity = roost.client.get(f"/users/alice/statuses/{public['id']}/activity", headers=AP)
    assert activity.json()["type"] == "Create" and activity.json()["object"]["id"] == note["id"]

    for hidden in (private, direct):
        refused = roost.client.get(f"/users/alice/statuses/{hidden['id']}", headers=AP)
        assert refused.status_code == 404 and refused.json() == {"error": "Record not found"}
    # Another author's address for the same post is no address.
    wrong = roost.client.get(f"/users/bob/statuses/{public['id']}", headers=AP)
    assert wrong.status_code == 404
    page = roost.client.get(f"/users/alice/statuses/{public['id']}", follow_redirects=False)
    assert page.status_code == 302 and page.headers["location"] == f"/@alice/{public['id']}"


def test_given_posts_when_the_outbox_is_read_then_it_pages_public_ones_as_create_activities(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    bob = roost.account("bob")
    posted = [alice.post_status(f"post {n}") for n in range(22)]
    alice.post_status("friends only", visibility="private")
    boosted = bob.post_status("boost me")
    alice.post(f"/api/v1/statuses/{boosted['id']}/reblog")
    base = roost.settings.base_url
    outbox = roost.client.get("/users/alice/outbox", headers=AP).json()
    assert outbox["type"] == "OrderedCollection"
    assert outbox["first"] == f"{base}/users/alice/outbox?page=true"
    first = roost.client.get(outbox["first"].removeprefix(base), headers=AP).json()
    assert first["type"] == "OrderedCollectionPage" and len(first["orderedItems"]) == 20
    newest = first["orderedItems"][0]
    assert newest["type"] == "Announce"
    assert newest["object"] == f"{base}/users/bob/statuses/{boosted['id']}"
    assert {item["type"] for item in first["orderedItems"][1:]} == {"Create"}
    second = roost.client.get(first["next"].removeprefix(base), headers=AP).json()
    seen = [i["object"]["id"] for i in first["orderedItems"][1:] + second["orderedItems"]]
    assert seen == [f"{base}/users/alice/statuses/{p['id']}" for p in reversed(posted)]


def test_given_pins_and_follows_when_collections_are_read_then_hidden_ones_give_counts_only(
    roost: Roost,
) -> None:
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    pinned = alice.post_status("pinned")
    alice.post_status("not pinned")
    assert alice.post(f"/api/v1/statuses/{pinned['id']}/pin").status_code == 200
    bob.follow(alice)
    carol.follow(alice)
    base = roost.settings.base_url
    featured = roost.client.get("/users/alice/collections/featured", headers=AP).json()
    assert [n["id"] for n in featured["orderedItems"]] == [
        f"{base}/users/alice/statuses/{pinned['id']}"
    ]
    followers = roost.client.get("/users/alice/followers", headers=AP).json()
    assert followers["totalItems"] == 2
    page = roost.client.get("/users/alice/followers?page=1", headers=AP).json()
    assert set(page["orderedItems"]) == {f"{base}/users/bob", f"{base}/users/carol"}
    following = roost.client.get("/users/bob/following?page=1", headers=AP).json()
    assert following["orderedItems"] == [f"{base}/users/alice"]

    alice.patch("/api/v1/accounts/update_credentials", data={"hide_collections": "true"})
    hidden = roost.client.get("/users/alice/followers", headers=AP).json()
    assert hidden["totalItems"] == 2 and "first" not in hidden
    assert (
        "orderedItems" not in roost.client.get("/users/alice/followers?page=1", headers=AP).json()
    )


@pytest.mark.settings(federation=False)
def test_given_federation_off_when_activitypub_is_asked_then_404(roost: Roost) -> None:
    roost.account("alice")
    domain = roost.settings.domain
    for path in (
        f"/.well-known/webfinger?resource=acct:alice@{domain}",
        "/.well-known/host-meta",
        "/actor",
        "/users/alice/outbox",
    ):
        assert roost.client.get(path, headers=AP).status_code == 404, path
    assert roost.client.get("/users/alice", headers=AP).status_code == 404
    assert roost.client.post("/inbox", content=b"{}").status_code == 404
    assert roost.client.get("/nodeinfo/2.0").json()["protocols"] == []
    # People's links still lead to the pages.
    page = roost.client.get("/users/alice", follow_redirects=False)
    assert page.headers["location"] == "/@alice"


@pytest.mark.settings(authorized_fetch=True)
def test_given_authorized_fetch_when_read_unsigned_then_401_but_the_instance_actor_answers(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    post = alice.post_status("hello")
    for path in (
        "/users/alice",
        f"/users/alice/statuses/{post['id']}",
        "/users/alice/outbox",
        "/users/alice/followers",
        "/users/alice/collections/featured",
    ):
        answer = roost.client.get(path, headers=AP)
        assert answer.status_code == 401, path
        assert answer.json() == {"error": "Request not signed"}
    forged = roost.client.get(
        "/users/alice", headers={**AP, "Signature": 'keyId="x",signature="AAAA"'}
    )
    assert forged.status_code == 401
    actor = roost.client.get("/actor", headers=AP).json()
    assert actor["type"] == "Application" and actor["id"].endswith("/actor")
    assert actor["publicKey"]["id"] == actor["id"] + "#main-key"
    domain = roost.settings.domain
    finger = roost.client.get(f"/.well-known/webfinger?resource=acct:alice@{domain}")
    assert finger.status_code == 200
    # People still reach the page.
    assert roost.client.get("/users/alice", follow_redirects=False).status_code == 302


def test_given_authorized_fetch_off_when_read_unsigned_then_answered(roost: Roost) -> None:
    roost.account("alice")
    assert roost.client.get("/users/alice", headers=AP).status_code == 200
    assert roost.client.get("/nodeinfo/2.1").json()["protocols"] == ["activitypub"]
