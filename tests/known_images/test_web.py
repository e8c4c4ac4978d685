"""The web composer and the staff emoji page meet the known-image lists too."""

from __future__ import annotations

from roost.domain.roles.permissions import Permission
from tests.api.staff_support import staff_with
from tests.conftest import Roost
from tests.known_images import pictures
from tests.known_images.support import import_list, media_rows, quarantine_rows, stored_files
from tests.web.support_app import signed_in_browser, token_of


def test_given_a_listed_picture_when_posted_from_the_web_then_refused_and_nothing_posted(
    roost: Roost,
) -> None:
    listed = pictures.png(17)
    import_list(roost, "hotline", pictures.pdq_hex(listed))
    alice = roost.account("alice")
    browser = signed_in_browser(roost, alice)
    answer = browser.post(
        "/web/statuses",
        data={
            "csrf_token": token_of(browser),
            "status": "look at this",
            "spoiler_text": "",
            "visibility": "public",
            "alt_1": "",
        },
        files={"media_1": ("photo.png", listed, "image/png")},
        follow_redirects=False,
    )
    assert answer.status_code == 422, answer.text[:400]
    assert "could not be processed" in answer.text
    assert alice.get(f"/api/v1/accounts/{alice.id}/statuses").json() == []
    assert media_rows(roost) == 0 and stored_files(roost) == []
    [row] = quarantine_rows(roost)
    assert row.origin == "media" and row.account_id == int(alice.id)


def test_given_a_listed_picture_when_staff_add_it_as_emoji_on_the_web_then_422_and_not_stored(
    roost: Roost,
) -> None:
    small = pictures.png(17, (256, 192))
    import_list(roost, "hotline", pictures.pdq_hex(small))
    staff = staff_with(roost, "emojist", int(Permission.MANAGE_CUSTOM_EMOJIS))
    browser = signed_in_browser(roost, staff)
    answer = browser.post(
        "/admin/emoji",
        data={"csrf_token": token_of(browser, "/admin/emoji"), "shortcode": "standin"},
        files={"image": ("s.png", small, "image/png")},
    )
    assert answer.status_code == 422 and "could not be processed" in answer.text
    assert roost.client.get("/api/v1/custom_emojis").json() == [] and stored_files(roost) == []
    [row] = quarantine_rows(roost)
    assert row.origin == "emoji" and row.account_id == int(staff.id)
