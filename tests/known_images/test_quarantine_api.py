"""Staff open the quarantine through the admin API, with view_quarantine only."""

from __future__ import annotations

from roost.domain.roles.permissions import Permission
from roost.erasure.erase import erase_account
from roost.services import Services
from tests.api.staff_support import ADMIN_SCOPES, grant, staff_with
from tests.conftest import Roost
from tests.known_images import pictures
from tests.known_images.support import (
    audit_actions,
    import_list,
    quarantine_rows,
    reports_about,
)

FORBIDDEN = {"error": "This action is not allowed"}


def _refused_upload(roost: Roost) -> tuple[str, bytes]:
    listed = pictures.png(17)
    import_list(roost, "hotline", pictures.pdq_hex(listed))
    alice = roost.account("alice")
    refused = alice.post("/api/v2/media", files={"file": ("a.png", listed, "image/png")})
    assert refused.status_code == 422
    return alice.id, listed


def test_given_staff_with_view_quarantine_when_they_open_an_item_then_its_bytes_audited(
    roost: Roost,
) -> None:
    alice_id, listed = _refused_upload(roost)
    keeper = staff_with(roost, "keeper", int(Permission.VIEW_QUARANTINE))

    [item] = keeper.get("/api/v1/admin/roost/quarantine").json()
    assert item["account_id"] == alice_id and item["origin"] == "media"
    assert item["list"] == "hotline" and item["distance"] == 0 and item["report_id"]
    assert "sealed" not in item and item["file_size"] == len(listed)
    opened = keeper.get(f"/api/v1/admin/roost/quarantine/{item['id']}/file")
    assert opened.status_code == 200 and opened.content == listed
    assert opened.headers["cache-control"] == "no-store"
    assert opened.headers["content-type"] == "image/png"
    assert audit_actions(roost)[-1] == "known_image.open"
    missing = keeper.get("/api/v1/admin/roost/quarantine/1/file")
    assert missing.status_code == 404


def test_given_the_built_in_admin_role_when_it_asks_for_the_quarantine_then_403(
    roost: Roost,
) -> None:
    _refused_upload(roost)
    admin = roost.account("admin", scopes=ADMIN_SCOPES)
    grant(roost, admin, "Admin")
    for path in ("/api/v1/admin/roost/quarantine", "/api/v1/admin/roost/quarantine/1/file"):
        answer = admin.get(path)
        assert (answer.status_code, answer.json()) == (403, FORBIDDEN)
    member = roost.account("member", scopes=ADMIN_SCOPES)
    assert member.get("/api/v1/admin/roost/quarantine").status_code == 403


def test_given_a_quarantined_upload_when_its_uploader_is_erased_then_the_file_stays_unnamed(
    roost: Roost,
) -> None:
    alice_id, listed = _refused_upload(roost)
    services: Services = roost.client.app.state.services  # type: ignore[attr-defined]

    receipt = roost.run(lambda: erase_account(services, int(alice_id)))

    assert receipt.clean, receipt.as_dict()
    [row] = quarantine_rows(roost)
    assert row.account_id is None and reports_about(roost, alice_id) == []
    keeper = staff_with(roost, "keeper", int(Permission.VIEW_QUARANTINE))
    opened = keeper.get(f"/api/v1/admin/roost/quarantine/{row.id}/file")
    assert opened.status_code == 200 and opened.content == listed
