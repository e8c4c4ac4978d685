"""The spam-wave staff pages (/admin/spam): staff with manage_reports see the
clusters and act on a whole one with one form; suspending also needs
manage_users; each action is the domain's own, audited as done on the web."""

from __future__ import annotations

from roost.domain.audit.chain import Entry, entries
from roost.domain.roles.permissions import Permission
from tests.api.staff_support import staff_with
from tests.conftest import Roost, User
from tests.spam.support import open_clusters, wave_post
from tests.web.support import Browser
from tests.web.support_app import post_form, signed_in_browser, token_of

P = Permission


def _wave(roost: Roost, prefix: str) -> tuple[list[User], list[str], int]:
    users = [roost.account(f"{prefix}{n}") for n in range(5)]
    ids = [wave_post(user, n) for n, user in enumerate(users)]
    roost.drain_jobs()
    return users, ids, open_clusters(roost)[0].id


def _staff(roost: Roost, name: str, permissions: int) -> Browser:
    return signed_in_browser(roost, staff_with(roost, name, permissions))


def _audit(roost: Roost) -> list[Entry]:
    async def read() -> list[Entry]:
        async with roost.db.read() as conn:
            return await entries(conn, limit=100)

    return roost.run(read)


def test_given_a_wave_then_a_moderator_sees_its_cluster_and_deletes_it_with_one_form(
    roost: Roost,
) -> None:
    _, ids, cluster_id = _wave(roost, "web")
    moderator = _staff(roost, "mod", int(P.MANAGE_REPORTS))

    listed = moderator.get("/admin/spam")
    assert listed.status_code == 200
    assert f'href="/admin/spam/{cluster_id}"' in listed.text
    assert "5 posts by 5 accounts (5 new)" in listed.text and "bonus.example" in listed.text
    page = moderator.get(f"/admin/spam/{cluster_id}")
    assert page.status_code == 200 and page.text.count("@web") == 5
    assert 'value="suspend"' not in page.text  # the role cannot suspend

    token = token_of(moderator, f"/admin/spam/{cluster_id}")
    forged = post_form(moderator, f"/admin/spam/{cluster_id}", "wrong", decision="delete")
    assert forged.status_code == 403
    assert roost.client.get(f"/api/v1/statuses/{ids[0]}").status_code == 200

    done = post_form(moderator, f"/admin/spam/{cluster_id}", token, decision="delete")
    assert done.status_code == 303 and done.headers["location"].endswith("?done=delete")
    assert "posts are deleted" in moderator.get(done.headers["location"]).text
    assert all(roost.client.get(f"/api/v1/statuses/{i}").status_code == 404 for i in ids)
    [entry] = [e for e in _audit(roost) if e.action == "spam.delete"]
    assert entry.permission == "manage_reports" and entry.details["via"] == "web"


def test_given_a_moderator_without_manage_users_when_they_post_suspend_then_nothing_changes(
    roost: Roost,
) -> None:
    users, ids, cluster_id = _wave(roost, "nosus")
    moderator = _staff(roost, "mod", int(P.MANAGE_REPORTS))
    token = token_of(moderator, f"/admin/spam/{cluster_id}")

    refused = post_form(moderator, f"/admin/spam/{cluster_id}", token, decision="suspend")

    assert refused.status_code == 403 and "manage_users" in refused.text
    assert users[0].get(f"/api/v1/statuses/{ids[0]}").status_code == 200
    assert [e for e in _audit(roost) if e.action.startswith("spam.")] == []
    unknown = post_form(moderator, f"/admin/spam/{cluster_id}", token, decision="ban")
    assert unknown.status_code == 422


def test_given_an_admin_when_they_suspend_a_cluster_on_the_web_then_every_account_is(
    roost: Roost,
) -> None:
    _, ids, cluster_id = _wave(roost, "sus")
    admin = _staff(roost, "boss", int(P.MANAGE_REPORTS | P.MANAGE_USERS))
    token = token_of(admin, f"/admin/spam/{cluster_id}")
    assert 'value="suspend"' in admin.get(f"/admin/spam/{cluster_id}").text

    done = post_form(admin, f"/admin/spam/{cluster_id}", token, decision="suspend")

    assert done.status_code == 303
    assert roost.client.get(f"/api/v1/statuses/{ids[0]}").status_code == 404
    actions = [e.action for e in _audit(roost)]
    assert actions.count("account.suspend") == 5 and actions.count("spam.suspend") == 1
    assert f'href="/admin/spam/{cluster_id}"' not in admin.get("/admin/spam").text
    assert "suspended" in admin.get("/admin/spam?all=1").text
    assert admin.get("/admin/spam/4242424242").status_code == 404
