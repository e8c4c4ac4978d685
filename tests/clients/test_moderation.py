"""Mastodon.py's report and admin methods against a live Roost: a report filed,
found by a moderator, handled, and answered by a suspension that closes it;
the audit log verifies afterwards."""

from __future__ import annotations

import pytest
from mastodon.errors import MastodonAPIError

from tests.clients.conftest import LiveServer, eventually

pytestmark = pytest.mark.clients

ADMIN_SCOPES = "read write follow admin:read admin:write"


def test_given_a_report_when_a_moderator_handles_it_with_mastodon_py_then_each_call_works(
    live_server: LiveServer,
) -> None:
    reporter, spammer, mod = live_server.people("reporter", "spammer", "moderator")
    granted = live_server.roost("roles", "grant", mod.username, "Moderator")
    assert granted.returncode == 0, granted.stderr
    staff = live_server.client(live_server.create_token(mod.username, ADMIN_SCOPES))
    post = spammer.api.status_post("cheap watches, click here")

    filed = reporter.api.report(
        spammer.id, status_ids=[post["id"]], comment="spam", category="spam"
    )

    assert str(filed["target_account"]["id"]) == spammer.id and filed["category"] == "spam"
    note = eventually(lambda: list(staff.notifications(types=["admin.report"])) or None)
    assert note[0]["type"] == "admin.report"
    assert str(note[0]["report"]["id"]) == str(filed["id"])
    with pytest.raises(MastodonAPIError):
        reporter.api.admin_reports()  # no role: 403
    open_reports = staff.admin_reports()
    assert [str(r["id"]) for r in open_reports] == [str(filed["id"])]
    report = staff.admin_report(filed["id"])
    assert "cheap watches" in report["statuses"][0]["content"]
    assert str(report["account"]["id"]) == reporter.id
    assigned = staff.admin_report_assign(filed["id"])
    assert str(assigned["assigned_account"]["id"]) == mod.id
    assert staff.admin_report_unassign(filed["id"])["assigned_account"] is None
    assert staff.admin_report_resolve(filed["id"])["action_taken"] is True
    assert [str(r["id"]) for r in staff.admin_reports(resolved=True)] == [str(filed["id"])]
    assert staff.admin_report_reopen(filed["id"])["action_taken"] is False

    staff.admin_account_moderate(spammer.id, action="suspend", report_id=filed["id"], text="spam")

    assert staff.admin_report(filed["id"])["action_taken"] is True
    assert staff.admin_account(spammer.id)["suspended"] is True
    verified = live_server.roost("audit", "verify")
    assert verified.returncode == 0 and verified.stdout.startswith("audit log intact"), (
        verified.stderr
    )
    listed = live_server.roost("audit", "list", "--limit", "3").stdout
    assert "report.resolve" in listed and "account.suspend" in listed
