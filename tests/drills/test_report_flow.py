"""Drill (threats 37, 31-35): a report flows to a decision on a running server.

`roost serve` runs as its own process on a data directory, with a real SMTP
server (aiosmtpd) for its mail. A member reports a post; the post is deleted
by its author; a moderator named with `roost roles grant` finds the report
as it was filed, suspends the account with the report named, which closes it;
the reporter receives the mail saying it was reviewed. Then `roost audit
verify`, run as the operator does, finds the chain intact, and `roost audit
list` shows each staff step.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cli.installation import Installation
from tests.web.support import Mailbox, start_mailbox

pytestmark = pytest.mark.slow
PASSWORD = "correct horse battery"


@pytest.fixture
def installation(tmp_path: Path) -> Iterator[Installation]:
    installed = Installation(tmp_path, {})
    try:
        yield installed
    finally:
        installed.stop_all()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box, controller = start_mailbox()
    try:
        yield box
    finally:
        controller.stop()


def test_given_a_report_when_a_moderator_decides_then_the_reporter_is_told_and_the_log_holds(
    installation: Installation, mailbox: Mailbox
) -> None:
    roost = installation.roost
    tokens = {}
    for name in ("reporter", "spammer", "mod"):
        roost("accounts", "create", name, "--email", f"{name}@example.org", "--password", PASSWORD)
    roost("roles", "grant", "mod", "Moderator")
    for name, scopes in (
        ("reporter", "read write"),
        ("spammer", "read write"),
        ("mod", "read write admin:read admin:write"),
    ):
        tokens[name] = roost("tokens", "create", name, "--scopes", scopes).out.strip()
    base = installation.serve(smtp_url=mailbox.url)

    def call(who: str, method: str, path: str, **kwargs: object) -> httpx.Response:
        headers = {"Authorization": f"Bearer {tokens[who]}"}
        return httpx.request(method, base + path, headers=headers, timeout=10, **kwargs)  # type: ignore[arg-type]

    post = call("spammer", "POST", "/api/v1/statuses", json={"status": "click my link"}).json()
    spammer_id = post["account"]["id"]
    filed = call(
        "reporter",
        "POST",
        "/api/v1/reports",
        json={"account_id": spammer_id, "status_ids": [post["id"]], "category": "spam"},
    )
    assert filed.status_code == 200, filed.text
    report_id = filed.json()["id"]
    assert call("spammer", "DELETE", f"/api/v1/statuses/{post['id']}").status_code == 200

    queue = call("mod", "GET", "/api/v1/admin/reports").json()
    assert [r["id"] for r in queue] == [report_id]
    assert "click my link" in queue[0]["statuses"][0]["content"]
    assert (
        call("mod", "POST", f"/api/v1/admin/reports/{report_id}/assign_to_self").status_code == 200
    )
    decided = call(
        "mod",
        "POST",
        f"/api/v1/admin/accounts/{spammer_id}/action",
        data={"type": "suspend", "report_id": report_id, "text": "spam links"},
    )
    assert decided.status_code == 200, decided.text
    assert call("mod", "GET", f"/api/v1/admin/reports/{report_id}").json()["action_taken"]

    (mail,) = mailbox.wait_for(1, timeout=30)
    assert mail["To"] == "reporter@example.org" and "reviewed" in mail["Subject"]
    body = mail.get_payload(decode=True)
    assert isinstance(body, bytes) and b"@spammer" in body

    verified = roost("audit", "verify").out
    assert verified.startswith("audit log intact: ")
    listed = roost("audit", "list").out
    for step in ("report.assign", "account.suspend", "report.resolve", "role.grant"):
        assert step in listed, listed
