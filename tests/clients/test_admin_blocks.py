"""Mastodon.py's instance-wide admin methods against a live Roost: domain
blocks and allows, e-mail domain, IP and canonical e-mail blocks, and the
dashboard's measures, dimensions and retention; the audit log verifies
afterwards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from mastodon.errors import MastodonAPIError, MastodonNotFoundError

from tests.clients.conftest import LiveServer

pytestmark = pytest.mark.clients

ADMIN_SCOPES = "read write follow admin:read admin:write"


def test_given_an_admin_when_they_keep_instance_blocks_with_mastodon_py_then_each_call_works(
    live_server: LiveServer,
) -> None:
    (admin,) = live_server.people("blockadmin")
    granted = live_server.roost("roles", "grant", admin.username, "Admin")
    assert granted.returncode == 0, granted.stderr
    staff = live_server.client(live_server.create_token(admin.username, ADMIN_SCOPES))

    block = staff.admin_create_domain_block(
        "spam.example", severity="suspend", reject_media=True, public_comment="spam"
    )
    assert block["domain"] == "spam.example" and block["severity"] == "suspend"
    assert block["reject_media"] is True
    assert [b["id"] for b in staff.admin_domain_blocks()] == [block["id"]]
    assert staff.admin_domain_blocks(id=block["id"])["public_comment"] == "spam"
    updated = staff.admin_update_domain_block(block["id"], severity="silence")
    assert updated["severity"] == "silence"
    with pytest.raises(MastodonAPIError):
        staff.admin_create_domain_block("sub.spam.example", severity="noop")
    public = staff.instance_domain_blocks()
    assert [b["domain"] for b in public] == ["spam.example"]
    staff.admin_delete_domain_block(block["id"])
    with pytest.raises(MastodonNotFoundError):
        staff.admin_domain_blocks(id=block["id"])

    allow = staff.admin_create_domain_allow("friends.example")
    assert staff.admin_domain_allow(allow["id"])["domain"] == "friends.example"
    assert [a["id"] for a in staff.admin_domain_allows()] == [allow["id"]]
    staff.admin_delete_domain_allow(allow["id"])
    assert list(staff.admin_domain_allows()) == []

    email_block = staff.admin_create_email_domain_block("junk.example")
    assert staff.admin_email_domain_block(email_block["id"])["domain"] == "junk.example"
    assert [b["id"] for b in staff.admin_email_domain_blocks()] == [email_block["id"]]
    staff.admin_delete_email_domain_block(email_block["id"])

    ip_block = staff.admin_create_ip_block(
        "192.0.2.0/24", "sign_up_block", comment="bots", expires_in=3600
    )
    assert ip_block["ip"] == "192.0.2.0/24" and ip_block["expires_at"] is not None
    assert staff.admin_ip_block(ip_block["id"])["comment"] == "bots"
    changed = staff.admin_update_ip_block(ip_block["id"], severity="sign_up_requires_approval")
    assert changed["severity"] == "sign_up_requires_approval"
    assert [b["id"] for b in staff.admin_ip_blocks()] == [ip_block["id"]]
    staff.admin_delete_ip_block(ip_block["id"])
    assert list(staff.admin_ip_blocks()) == []

    canonical = staff.admin_create_canonical_email_block(email="Some.One+x@example.com")
    tested = staff.admin_test_canonical_email_block("someone@example.com")
    assert [b["id"] for b in tested] == [canonical["id"]]
    assert (
        staff.admin_canonical_email_block(canonical["id"])["canonical_email_hash"]
        == (canonical["canonical_email_hash"])
    )
    assert [b["id"] for b in staff.admin_canonical_email_blocks()] == [canonical["id"]]
    staff.admin_delete_canonical_email_block(canonical["id"])
    assert list(staff.admin_test_canonical_email_block("someone@example.com")) == []

    verified = live_server.roost("audit", "verify")
    assert verified.returncode == 0, verified.stderr
    listed = live_server.roost("audit", "list", "--limit", "30").stdout
    for action in ("domain_block.create", "ip_block.update", "canonical_email_block.destroy"):
        assert action in listed


def test_given_a_moderator_when_they_read_the_dashboard_with_mastodon_py_then_each_call_works(
    live_server: LiveServer,
) -> None:
    (mod,) = live_server.people("dashmod")
    granted = live_server.roost("roles", "grant", mod.username, "Moderator")
    assert granted.returncode == 0, granted.stderr
    staff = live_server.client(live_server.create_token(mod.username, "read admin:read"))
    end = datetime.now(UTC)
    start = end - timedelta(days=6)

    measures = staff.admin_measures(
        start, end, active_users=True, new_users=True, interactions=True
    )
    dimensions = staff.admin_dimensions(start, end, languages=True, software_versions=True)
    retention = staff.admin_retention(start, end)

    assert {m["key"] for m in measures} == {"active_users", "new_users", "interactions"}
    new_users = next(m for m in measures if m["key"] == "new_users")
    assert int(new_users["total"]) >= 1 and len(new_users["data"]) == 7
    assert {d["key"] for d in dimensions} == {"languages", "software_versions"}
    assert len(retention) == 7 and retention[-1]["frequency"] == "day"
    with pytest.raises(MastodonAPIError):
        staff.admin_ip_blocks()  # a moderator does not manage blocks: 403

    # The hashtag measures, with the tag's id as Mastodon.py sends it.
    tag = f"dashtag{mod.username}"
    mod.api.status_post(f"Counting #{tag}")
    mod.api.status_post(f"Counting #{tag} again")
    tag_id = mod.api.tag(tag)["id"]
    tagged = staff.admin_measures(start, end, tag_accounts=tag_id, tag_uses=tag_id)
    by_key = {m["key"]: m for m in tagged}
    assert int(by_key["tag_uses"]["total"]) == 2
    assert int(by_key["tag_accounts"]["total"]) == 1
    assert int(by_key["tag_uses"]["data"][-1]["value"]) == 2
