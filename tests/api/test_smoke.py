from tests.conftest import Roost


def test_given_a_new_server_when_an_app_asks_for_the_instance_then_it_answers(
    roost: Roost,
) -> None:
    response = roost.client.get("/api/v2/instance")
    assert response.status_code == 200
    assert "compatible; Roost" in response.json()["version"]


def test_given_two_people_when_one_follows_and_the_other_posts_then_home_shows_it(
    roost: Roost,
) -> None:
    alice, bob = roost.account("alice"), roost.account("bob")
    alice.follow(bob)
    post = bob.post_status("hello #roost")
    home = alice.get("/api/v1/timelines/home").json()
    assert [s["id"] for s in home] == [post["id"]]
