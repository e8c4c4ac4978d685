"""The admin API's account actions beyond suspension: silence, sensitive,
disable and their lifting, approve and reject, deleting data, the v2 list,
and the strikes each action leaves (moderation_warning notifications)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from roost.app import create_app
from roost.config import Settings
from tests.api.staff_support import grant
from tests.api.test_accounts import _confirm_by_link, _sign_up
from tests.api.test_admin import ADMIN_SCOPES, ids, staff
from tests.conftest import Roost, User
from tests.media import samples
from tests.web.support import Mailbox, start_mailbox


def act(admin: User, target: User | str, kind: str, **extra: Any) -> Any:
    account_id = target if isinstance(target, str) else target.id
    return admin.post(f"/api/v1/admin/accounts/{account_id}/action", data={"type": kind, **extra})


def shown(admin: User, target: User) -> dict[str, Any]:
    answer = admin.get(f"/api/v1/admin/accounts/{target.id}")
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()
    return data


def warnings_of(user: User) -> list[dict[str, Any]]:
    listed = user.get("/api/v1/notifications", params={"types[]": "moderation_warning"})
    assert listed.status_code == 200, listed.text
    return [n["moderation_warning"] for n in listed.json()]


def test_given_staff_when_they_silence_sensitize_and_disable_then_the_entity_says_so_and_each_lifts(
    roost: Roost,
) -> None:
    alice, admin = roost.account("alice"), staff(roost)

    for kind in ("silence", "sensitive", "disable"):
        answer = act(admin, alice, kind, text=f"because {kind}")
        assert answer.status_code == 200 and answer.json() == {}, answer.text

    limited = shown(admin, alice)
    assert (limited["silenced"], limited["sensitized"], limited["disabled"]) == (True, True, True)
    assert limited["suspended"] is False and limited["approved"] is True
    assert limited["account"]["limited"] is True

    for route, field in (("unsilence", "silenced"), ("unsensitive", "sensitized")):
        lifted = admin.post(f"/api/v1/admin/accounts/{alice.id}/{route}")
        assert lifted.status_code == 200 and lifted.json()[field] is False, lifted.text
    enabled = admin.post(f"/api/v1/admin/accounts/{alice.id}/enable")
    assert enabled.status_code == 200 and enabled.json()["disabled"] is False
    # Lifting what is not set is no error, as on Mastodon.
    again = admin.post(f"/api/v1/admin/accounts/{alice.id}/unsilence")
    assert again.status_code == 200 and again.json()["silenced"] is False
    # Every step is in the audit log.
    actions = roost.run(lambda: _audit_actions(roost))
    for name in (
        "account.silence",
        "account.sensitive",
        "account.disable",
        "account.unsilence",
        "account.unsensitive",
        "account.enable",
    ):
        assert name in actions


async def _audit_actions(roost: Roost) -> list[str]:
    from roost.domain.audit.chain import entries

    async with roost.db.read() as conn:
        return [entry.action for entry in await entries(conn)]


def test_given_a_disabled_account_then_its_token_and_password_answer_403_disabled(
    roost: Roost,
) -> None:
    alice, admin = roost.account("alice"), staff(roost)
    assert alice.get("/api/v1/accounts/verify_credentials").status_code == 200

    assert act(admin, alice, "disable").status_code == 200

    refused = alice.get("/api/v1/accounts/verify_credentials")
    assert refused.status_code == 403
    assert refused.json() == {"error": "Your login is currently disabled"}
    # The account and its posts stay visible as they were.
    assert roost.client.get(f"/api/v1/accounts/{alice.id}").status_code == 200

    assert admin.post(f"/api/v1/admin/accounts/{alice.id}/enable").status_code == 200
    assert alice.get("/api/v1/accounts/verify_credentials").status_code == 200


@pytest.mark.settings(oauth_password_grant=True)
def test_given_a_disabled_account_when_it_signs_in_with_its_password_then_refused(
    roost: Roost,
) -> None:
    alice, admin = roost.account("alice"), staff(roost)
    app = roost.client.post(
        "/api/v1/apps",
        data={"client_name": "app", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"},
    ).json()

    def grant() -> Any:
        return roost.client.post(
            "/oauth/token",
            data={
                "grant_type": "password",
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "username": "alice",
                "password": "correct horse battery",
            },
        )

    assert grant().status_code == 200
    act(admin, alice, "disable")
    refused = grant()
    assert refused.status_code in (400, 403), refused.text
    assert "disabled" in refused.text


def test_given_an_action_with_text_then_the_account_gets_a_strike_it_can_read(
    roost: Roost,
) -> None:
    alice, bob, admin = roost.account("alice"), roost.account("bob"), staff(roost)

    act(admin, alice, "silence", text="Stop the spam, please")
    act(admin, bob, "none")  # no text: nothing to tell

    notified = alice.get("/api/v1/notifications").json()
    assert [n["type"] for n in notified] == ["moderation_warning"]
    strike = notified[0]["moderation_warning"]
    assert strike["action"] == "silence" and strike["text"] == "Stop the spam, please"
    assert strike["target_account"]["id"] == alice.id and strike["appeal"] is None
    assert set(strike) == {
        "id",
        "action",
        "text",
        "status_ids",
        "target_account",
        "appeal",
        "created_at",
    }
    # The moderator stays unnamed: the notification comes from the account itself.
    assert notified[0]["account"]["id"] == alice.id
    assert bob.get("/api/v1/notifications").json() == []
    # A warning without action, with text, is a strike too.
    act(admin, bob, "none", text="A friendly word")
    assert [w["action"] for w in warnings_of(bob)] == ["none"]
    # Nobody else sees it.
    assert warnings_of(admin) == []


def test_given_a_report_when_staff_act_on_its_target_then_the_report_closes(
    roost: Roost,
) -> None:
    alice, bob, admin = roost.account("alice"), roost.account("bob"), staff(roost)
    post = alice.post_status("rude words")
    report = bob.post("/api/v1/reports", data={"account_id": alice.id, "status_ids[]": post["id"]})
    assert report.status_code == 200, report.text

    answer = act(admin, alice, "sensitive", report_id=report.json()["id"], text="mark it")

    assert answer.status_code == 200, answer.text
    closed = admin.get(f"/api/v1/admin/reports/{report.json()['id']}").json()
    assert closed["action_taken"] is True
    wrong = act(admin, bob, "silence", report_id=report.json()["id"])
    assert wrong.status_code == 422
    unknown = act(admin, bob, "silence", report_id="4242424242", text="no such report")
    assert unknown.status_code == 404
    assert shown(admin, bob)["silenced"] is False  # nothing of it was done


def test_given_staff_targets_when_acting_through_the_api_then_403(roost: Roost) -> None:
    admin, other = staff(roost), staff(roost, "staff2")
    for kind in ("silence", "sensitive", "disable"):
        refused = act(admin, other, kind)
        assert refused.status_code == 403, (kind, refused.text)
    assert shown(admin, other)["silenced"] is False


def test_given_a_sensitized_account_when_it_posts_media_then_the_post_is_sensitive(
    roost: Roost,
) -> None:
    alice, admin = roost.account("alice"), staff(roost)

    def post_with_image(text: str) -> dict[str, Any]:
        media = alice.post("/api/v2/media", files={"file": ("a.png", samples.png(), "image/png")})
        assert media.status_code in (200, 202), media.text
        return alice.post_status(text, media_ids=[media.json()["id"]])

    before = post_with_image("before")
    act(admin, alice, "sensitive")
    during = post_with_image("during")
    words = alice.post_status("just words")
    edited = alice.put(
        f"/api/v1/statuses/{before['id']}",
        json={"status": "before, edited", "media_ids": [before["media_attachments"][0]["id"]]},
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["sensitive"] is True  # media edited in while sensitized
    admin.post(f"/api/v1/admin/accounts/{alice.id}/unsensitive")
    after = post_with_image("after")

    assert before["sensitive"] is False
    assert during["sensitive"] is True
    assert words["sensitive"] is False
    assert after["sensitive"] is False


def test_given_a_pending_sign_up_when_staff_approve_or_reject_then_it_is_let_in_or_erased(
    roost: Roost,
) -> None:
    admin = staff(roost)
    tokens = {}
    for name in ("newbie", "spammer"):
        made = _sign_up(roost, name)
        assert made.status_code == 200, made.text
        tokens[name] = made.json()["access_token"]
        _confirm_by_link(roost, name)
    pending = admin.get("/api/v2/admin/accounts", params={"status": "pending"}).json()
    by_name = {a["username"]: a for a in pending}
    assert set(by_name) == {"newbie", "spammer"}
    assert all(a["approved"] is False for a in pending)

    approved = admin.post(f"/api/v1/admin/accounts/{by_name['newbie']['id']}/approve")
    rejected = admin.post(f"/api/v1/admin/accounts/{by_name['spammer']['id']}/reject")

    assert approved.status_code == 200 and approved.json()["approved"] is True, approved.text
    assert rejected.status_code == 200 and rejected.json()["username"] == "spammer"
    headers = {"Authorization": f"Bearer {tokens['newbie']}"}
    me = roost.client.get("/api/v1/accounts/verify_credentials", headers=headers)
    assert me.status_code == 200
    gone = roost.client.get("/api/v1/accounts/lookup", params={"acct": "spammer"})
    assert gone.status_code == 404
    # Neither is pending any more; approving again is refused as on Mastodon.
    assert admin.get("/api/v2/admin/accounts", params={"status": "pending"}).json() == []
    again = admin.post(f"/api/v1/admin/accounts/{by_name['newbie']['id']}/approve")
    assert again.status_code == 403


def test_given_a_suspended_account_when_staff_delete_its_data_then_it_is_erased(
    roost: Roost,
) -> None:
    alice, bob, admin = roost.account("alice"), roost.account("bob"), staff(roost)
    alice.post_status("my words")

    not_yet = admin.delete(f"/api/v1/admin/accounts/{bob.id}")
    act(admin, alice, "suspend")
    deleted = admin.delete(f"/api/v1/admin/accounts/{alice.id}")

    assert not_yet.status_code == 403
    assert deleted.status_code == 200 and deleted.json()["username"] == "alice", deleted.text
    assert admin.get(f"/api/v1/admin/accounts/{alice.id}").status_code == 404
    assert admin.get(f"/api/v1/admin/accounts/{bob.id}").status_code == 200


def test_given_accounts_when_staff_list_them_with_v2_filters_then_each_filter_holds(
    roost: Roost,
) -> None:
    ann, bert, carl = (roost.account(n) for n in ("ann", "bert", "carl"))
    admin = staff(roost)
    act(admin, ann, "silence")
    act(admin, bert, "disable")
    act(admin, carl, "suspend")
    changed = bert.patch("/api/v1/accounts/update_credentials", data={"display_name": "x"})
    assert changed.status_code == 403  # disabled

    def v2(**params: Any) -> list[Any]:
        answer = admin.get("/api/v2/admin/accounts", params=params)
        assert answer.status_code == 200, answer.text
        return ids(answer.json())

    assert v2(status="silenced") == [ann.id]
    assert v2(status="disabled") == [bert.id]
    assert v2(status="suspended") == [carl.id]
    assert v2(status="active") == [admin.id, ann.id]
    assert v2(origin="local") == [admin.id, carl.id, bert.id, ann.id]
    assert v2(origin="remote") == []
    assert v2(permissions="staff") == [admin.id]
    owner = shown(admin, admin)["role"]["id"]
    assert v2(**{"role_ids[]": owner}) == [admin.id]
    assert v2(username="ber") == [bert.id]
    assert v2(display_name="AN") == []  # display names are empty here
    assert v2(email="Carl@Example.org") == [carl.id]
    assert v2(by_domain=roost.settings.domain) == [admin.id, carl.id, bert.id, ann.id]
    assert v2(by_domain="elsewhere.example") == []
    assert v2(ip="192.0.2.1") == []  # no addresses are kept
    # The v1 booleans that now mean something.
    v1 = admin.get("/api/v1/admin/accounts", params={"silenced": "true"}).json()
    assert ids(v1) == [ann.id]
    v1 = admin.get("/api/v1/admin/accounts", params={"disabled": "true"}).json()
    assert ids(v1) == [bert.id]
    bad = admin.get("/api/v2/admin/accounts", params={"origin": "mars"})
    assert bad.status_code == 422
    assert v2(invited_by=admin.id) == []  # nobody used an invite of the admin's


def test_given_invites_when_people_sign_up_with_them_then_invited_by_lists_them(
    roost: Roost,
) -> None:
    from roost.config import Registrations
    from roost.domain.accounts.sign_up import SignUp, do_sign_up
    from roost.domain.invites.actions import do_create_invite

    admin = staff(roost)
    other = staff(roost, "otheradmin")

    async def invite(by: User | None) -> str:
        async with roost.db.write() as tx:
            made = await do_create_invite(tx, created_by=int(by.id) if by else None)
            return made.code

    async def sign_up(name: str, code: str | None) -> str:
        request = SignUp(
            name, f"{name}@example.org", "a long enough password 1", True, invite_code=code
        )
        async with roost.db.write() as tx:
            return str((await do_sign_up(tx, Registrations.OPEN, request)).account_id)

    mine, theirs, nobodys = (roost.run(lambda by=by: invite(by)) for by in (admin, other, None))
    ada = roost.run(lambda: sign_up("ada", mine))
    bo = roost.run(lambda: sign_up("bo", mine))
    cy = roost.run(lambda: sign_up("cy", theirs))
    dee = roost.run(lambda: sign_up("dee", nobodys))
    eve = roost.run(lambda: sign_up("eve", None))

    def v2(**params: Any) -> list[Any]:
        answer = admin.get("/api/v2/admin/accounts", params=params)
        assert answer.status_code == 200, answer.text
        return ids(answer.json())

    assert v2(invited_by=admin.id) == [bo, ada]
    assert v2(invited_by=other.id) == [cy]
    assert v2(invited_by=ada) == []
    entity = admin.get(f"/api/v1/admin/accounts/{ada}").json()
    assert entity["invited_by_account_id"] == admin.id
    for plain in (dee, eve):  # an invite nobody named, or none: no field, as on Mastodon
        assert "invited_by_account_id" not in admin.get(f"/api/v1/admin/accounts/{plain}").json()


def test_given_a_moderator_role_without_delete_user_data_then_delete_is_403(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    admin = staff(roost)
    act(admin, alice, "suspend")
    moderator = roost.account("mod", scopes=ADMIN_SCOPES)
    grant(roost, moderator, "Moderator")  # manage_users, not delete_user_data
    refused = moderator.delete(f"/api/v1/admin/accounts/{alice.id}")
    assert refused.status_code == 403


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box, controller = start_mailbox()
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def mailing(settings: Settings, mailbox: Mailbox) -> Iterator[Roost]:
    changed = settings.model_copy(update={"run_jobs_in_process": False, "smtp_url": mailbox.url})
    with TestClient(create_app(changed)) as client:
        yield Roost(client, changed)


def test_given_send_email_notification_when_staff_act_then_the_account_is_mailed_the_decision(
    mailing: Roost, mailbox: Mailbox
) -> None:
    alice, bob, admin = mailing.account("alice"), mailing.account("bob"), staff(mailing)

    act(admin, alice, "silence", text="Fewer ads, please", send_email_notification="true")
    act(admin, bob, "silence", text="Not mailed", send_email_notification="false")
    mailing.drain_jobs()

    (mail,) = mailbox.wait_for(1)
    assert mail["To"] == "alice@example.org"
    body = mail.get_payload(decode=True)
    assert isinstance(body, bytes)
    text = body.decode()
    assert "Fewer ads, please" in text and "only people who follow you" in text
    (strike,) = warnings_of(alice)
    assert f"/settings/strikes/{strike['id']}" in text
    assert len(mailbox.messages) == 1
