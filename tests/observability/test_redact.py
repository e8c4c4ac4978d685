"""Credentials are masked wherever they sit in a log record's text; the rest stays."""

from __future__ import annotations

import pytest

from roost.observability.redact import redact, redact_text


@pytest.mark.parametrize(
    ("raw", "kept", "secret"),
    [
        ('"WebSocket /api/v1/streaming?access_token=abc123&stream=user"', "stream=user", "abc123"),
        ("POST /oauth/token grant_type=password&password=hunter2hunter2", "grant_type", "hunter2"),
        ("client_secret%3Ds3cr3tvalue&x=1", "x=1", "s3cr3tvalue"),
        ("code=abcdefgh&state=s1", "state=s1", "abcdefgh"),
        ("< Authorization: Bearer tok.en-value_1", "Authorization", "tok.en-value_1"),
        ("< Cookie: roost_csrf=nonce123; other=1", "Cookie", "nonce123"),
        ("(b'sec-websocket-protocol', b'tok999')", "sec-websocket-protocol", "tok999"),
        ("{'password': 'pa ss', 'login': 'alice'}", "alice", "pa ss"),
        ('{"access_token": "zzz111", "scope": "read"}', '"scope": "read"', "zzz111"),
        ("Basic Y2xpZW50OnNlY3JldA==", "Basic", "Y2xpZW50OnNlY3JldA=="),
        ("/media/1/small/a.png?viewer=3&expires=9&signature=SIGSIG", "viewer=3", "SIGSIG"),
    ],
)
def test_given_a_credential_in_text_when_redacted_then_only_it_is_masked(
    raw: str, kept: str, secret: str
) -> None:
    masked = redact_text(raw)
    assert secret not in masked
    assert kept in masked and "[redacted]" in masked


def test_given_ordinary_text_when_redacted_then_it_is_unchanged() -> None:
    text = "status_code=500 route=/oauth/token error_code=x tokens=3 job 12 (status.published)"
    assert redact_text(text) == text


def test_given_a_record_when_processed_then_secret_fields_and_the_exception_are_masked() -> None:
    event = {
        "event": "GET /x?access_token=aaa",
        "password": "plain",
        "exception": "ValueError: https://h/cb?code=ccc failed",
        "headers": {"Authorization": "Bearer bbb", "accept": "json"},
        "status": 200,
    }
    out = redact(None, "info", event)
    rendered = repr(out)
    assert not any(s in rendered for s in ("aaa", "plain", "ccc", "bbb"))
    assert out["status"] == 200 and out["headers"]["accept"] == "json"
