"""API rate limits (roost/api/ratelimits.py): Mastodon's headers on every
answer, 429 with Retry-After past a limit, nothing done for a refused
request, health never limited, staff and trusted apps exemptable."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from roost.app import create_app
from roost.db.tables import accounts, follows, statuses
from tests.conftest import Roost


def _reset(response: Any) -> datetime:
    text = response.headers["x-ratelimit-reset"]
    assert text.endswith("Z")
    return datetime.fromisoformat(text.removesuffix("Z") + "+00:00")


def _app(client: TestClient, scopes: str = "read write follow") -> dict[str, str]:
    app = client.post(
        "/api/v1/apps",
        json={"client_name": "t", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": scopes},
    ).json()
    token = client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "scope": scopes,
        },
    ).json()
    return {"client_id": app["client_id"], "token": token["access_token"]}


def _count(roost: Roost, query: Any) -> int:
    async def body() -> int:
        async with roost.db.read() as conn:
            return int((await conn.execute(query)).scalar_one())

    return roost.run(body)


@pytest.mark.settings(rate_limit_requests=3)
def test_given_an_account_past_its_requests_then_429_with_headers_and_others_unaffected(
    roost: Roost,
) -> None:
    alice = roost.account("alice")
    bob = roost.account("bob")
    before = datetime.now(UTC)
    answers = [alice.get("/api/v1/accounts/verify_credentials") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.headers["x-ratelimit-limit"] for a in answers] == ["3", "3", "3"]
    assert [a.headers["x-ratelimit-remaining"] for a in answers] == ["2", "1", "0"]
    # The window slides: every request counted so far has left it in 5 minutes.
    assert 290 <= (_reset(answers[-1]) - before).total_seconds() <= 310

    refused = roost.client.get(
        "/api/v1/accounts/verify_credentials",
        headers={**alice.headers, "Origin": "https://app.example"},
    )
    assert refused.status_code == 429
    assert refused.json() == {"error": "Too many requests"}
    assert 1 <= int(refused.headers["retry-after"]) <= 301
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert refused.headers["x-ratelimit-limit"] == "3"
    assert refused.headers["access-control-allow-origin"] == "*"
    assert "x-ratelimit-reset" in refused.headers["access-control-expose-headers"].lower()

    # Another account from the same address has its own count.
    assert bob.get("/api/v1/accounts/verify_credentials").status_code == 200
    # Health is never limited, and carries no headers.
    for _ in range(5):
        live = roost.client.get("/livez")
        assert live.status_code == 200
        assert "x-ratelimit-limit" not in live.headers


@pytest.mark.settings(rate_limit_requests=2)
def test_given_no_token_then_requests_count_by_address_and_errors_carry_headers_too(
    roost: Roost,
) -> None:
    missing = roost.client.get("/api/v1/statuses/123")
    assert missing.status_code == 404
    assert missing.headers["x-ratelimit-remaining"] == "1"
    assert roost.client.get("/api/v1/instance").status_code == 200
    assert roost.client.get("/api/v1/instance").status_code == 429
    # A bad token is counted by address too (and then refused).
    assert (
        roost.client.get("/api/v1/instance", headers={"Authorization": "Bearer nope"}).status_code
        == 429
    )
    # The web pages are not the API: no limit there.
    assert "x-ratelimit-limit" not in roost.client.get("/about").headers


@pytest.mark.settings(rate_limit_requests=1000, rate_limit_address_requests=4)
def test_given_many_accounts_from_one_address_then_the_address_limit_caps_them_all(
    roost: Roost,
) -> None:
    users = [roost.account(f"user{n}") for n in range(5)]
    codes = [u.get("/api/v1/accounts/verify_credentials").status_code for u in users]
    assert codes == [200, 200, 200, 200, 429]


@pytest.mark.settings(rate_limit_deletes=2)
def test_given_deletions_past_the_limit_then_the_post_is_not_deleted(roost: Roost) -> None:
    alice = roost.account("alice")
    posts = [alice.post_status(f"post {n}") for n in range(3)]
    assert alice.delete(f"/api/v1/statuses/{posts[0]['id']}").status_code == 200
    assert alice.delete(f"/api/v1/statuses/{posts[1]['id']}").status_code == 200
    refused = alice.delete(f"/api/v1/statuses/{posts[2]['id']}")
    assert refused.status_code == 429
    assert refused.headers["x-ratelimit-limit"] == "2"
    assert alice.get(f"/api/v1/statuses/{posts[2]['id']}").status_code == 200
    # Posting is not a deletion.
    assert alice.post("/api/v1/statuses", json={"status": "still here"}).status_code == 200


@pytest.mark.settings(rate_limit_follows=1)
def test_given_follows_past_the_limit_then_429_and_no_follow(roost: Roost) -> None:
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    alice.follow(bob)
    refused = alice.post(f"/api/v1/accounts/{carol.id}/follow")
    assert refused.status_code == 429
    assert _count(roost, select(func.count()).select_from(follows)) == 1


@pytest.mark.settings(rate_limit_sign_ups=2, registrations="open")
def test_given_sign_ups_from_one_address_past_the_limit_then_no_account_is_made(
    roost: Roost,
) -> None:
    app = _app(roost.client)
    codes = []
    for n in range(3):
        codes.append(
            roost.client.post(
                "/api/v1/accounts",
                headers={"Authorization": f"Bearer {app['token']}"},
                data={
                    "username": f"new{n}",
                    "email": f"new{n}@example.org",
                    "password": "long enough password",
                    "agreement": "true",
                },
            ).status_code
        )
    assert codes == [200, 200, 429]
    made = _count(roost, select(func.count()).select_from(accounts))
    assert made == 2


@pytest.mark.settings(rate_limit_requests=1, rate_limit_exempt_staff=True)
def test_given_staff_exempt_then_an_administrator_is_never_limited_but_others_are(
    roost: Roost,
) -> None:
    admin = roost.account("boss", admin=True)
    alice = roost.account("alice")
    for _ in range(4):
        answer = admin.get("/api/v1/accounts/verify_credentials")
        assert answer.status_code == 200
        assert "x-ratelimit-limit" not in answer.headers
    assert alice.get("/api/v1/accounts/verify_credentials").status_code == 200
    assert alice.get("/api/v1/accounts/verify_credentials").status_code == 429


@pytest.mark.settings(rate_limit_requests=1)
def test_given_an_administrator_without_the_exemption_then_limited_like_anyone(
    roost: Roost,
) -> None:
    admin = roost.account("boss", admin=True)
    assert admin.get("/api/v1/accounts/verify_credentials").status_code == 200
    assert admin.get("/api/v1/accounts/verify_credentials").status_code == 429


@pytest.mark.settings(rate_limit_requests=2, rate_limit_address_requests=0)
def test_given_a_trusted_app_by_client_id_then_its_tokens_are_never_limited(
    roost: Roost,
) -> None:
    trusted = _app(roost.client, scopes="read")
    other = _app(roost.client, scopes="read")
    settings = roost.settings.model_copy(
        update={"rate_limit_exempt_apps": f" {trusted['client_id']} ,unknown-id"}
    )
    with TestClient(create_app(settings)) as client:
        for _ in range(5):
            answer = client.get(
                "/api/v1/apps/verify_credentials",
                headers={"Authorization": f"Bearer {trusted['token']}"},
            )
            assert answer.status_code == 200
            assert "x-ratelimit-limit" not in answer.headers
        # Another app's token (no account: counted by address, which the two
        # registrations above already used in a shared store) is limited.
        limited = [
            client.get(
                "/api/v1/apps/verify_credentials",
                headers={"Authorization": f"Bearer {other['token']}"},
            ).status_code
            for _ in range(3)
        ]
    assert limited[-1] == 429
    assert limited.count(200) <= 2


@pytest.mark.settings(
    rate_limit_requests=0,
    rate_limit_address_requests=0,
    rate_limit_deletes=0,
)
def test_given_limits_set_to_zero_then_nothing_is_counted(roost: Roost) -> None:
    alice = roost.account("alice")
    post = alice.post_status("hello")
    for _ in range(3):
        answer = alice.get("/api/v1/accounts/verify_credentials")
        assert answer.status_code == 200
        assert "x-ratelimit-limit" not in answer.headers
    assert alice.delete(f"/api/v1/statuses/{post['id']}").status_code == 200
    assert _count(roost, select(func.count()).select_from(statuses)) == 0


@pytest.mark.settings(rate_limit_requests=3)
def test_given_an_erased_account_then_its_request_counts_and_upload_quota_are_forgotten(
    roost: Roost,
) -> None:
    from roost.db.tables import upload_quotas
    from roost.erasure.erase import erase_account
    from roost.ratelimit import account_key
    from tests.media import samples

    alice = roost.account("alice")
    uploaded = alice.post("/api/v2/media", files={"file": ("a.png", samples.png(), "image/png")})
    assert uploaded.status_code == 200
    assert alice.get("/api/v1/accounts/verify_credentials").status_code == 200
    assert _count(roost, select(func.count()).select_from(upload_quotas)) == 1
    services = roost.client.app.state.services  # type: ignore[attr-defined]

    async def erase() -> Any:
        return await erase_account(services, int(alice.id), scan_stores=False)

    receipt = roost.run(erase)
    assert receipt.tables["upload_quotas"] == 1
    assert receipt.stores["rate limits"].startswith(("1 ", "2 ", "3 ", "4 "))

    async def left() -> int:
        return int(await services.api_limiter.forget(account_key(int(alice.id))))

    assert roost.run(left) == 0
    assert _count(roost, select(func.count()).select_from(upload_quotas)) == 0
