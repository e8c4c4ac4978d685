"""A running server with a moderator and reports of posts with pictures, for
the moderation queue's browser tests and its drill."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.media import samples
from tests.web.browser.conftest import Server

PASSWORD = "a long and careful password"
MODERATOR = "kestrel"


@dataclass(frozen=True)
class Reported:
    moderator_token: str
    reports: list[str]  # in the order filed
    media: list[str]  # the pictures of the first report's post


def _ok(server: Server, *args: str) -> str:
    done = server.roost(*args)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _picture(server: Server, token: str, width: int) -> str:
    with server.api(token) as api:
        answer = api.post(
            "/api/v2/media",
            files={"file": ("p.png", samples.png(width, 64), "image/png")},
            data={"description": "a reported picture"},
        )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


def reported_pictures(server: Server, reports: int = 1) -> Reported:
    """A moderator (the Moderator role), and ``reports`` spam reports of
    posts by one account, the first post with two pictures."""
    for name in (MODERATOR, "poster", "reporter"):
        _ok(server, "accounts", "create", name, "--email", f"{name}@example.org",
            "--password", PASSWORD)  # fmt: skip
    _ok(server, "roles", "grant", MODERATOR, "Moderator")
    poster = _ok(server, "tokens", "create", "poster", "--scopes", "read write")
    reporter = _ok(server, "tokens", "create", "reporter", "--scopes", "read write")
    moderator = _ok(
        server, "tokens", "create", MODERATOR, "--scopes", "read write admin:read admin:write"
    )
    media = [_picture(server, poster, 64), _picture(server, poster, 80)]
    filed = []
    for number in range(reports):
        with server.api(poster) as api:
            body: dict[str, Any] = {"status": f"buy now {number}"}
            if number == 0:
                body["media_ids"] = media
            post = api.post("/api/v1/statuses", json=body).json()
        with server.api(reporter) as api:
            answer = api.post(
                "/api/v1/reports",
                json={
                    "account_id": post["account"]["id"],
                    "status_ids": [post["id"]],
                    "category": "spam",
                },
            )
        assert answer.status_code == 200, answer.text
        filed.append(str(answer.json()["id"]))
    return Reported(moderator, filed, media)


def sign_in(page: Any, base: str) -> None:
    page.goto(base + "/auth/sign_in")
    page.get_by_label("User name or e-mail address").fill(MODERATOR)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Home", exact=True).wait_for()


def media_state(page: Any) -> list[dict[str, Any]]:
    """Each media item on the page: its id, whether it is revealed, the
    computed CSS filter of its image, and whether the image loaded."""
    state: list[dict[str, Any]] = page.eval_on_selector_all(
        "figure.queue-media",
        """figures => figures.map(f => {
            const img = f.querySelector('img');
            return {
                id: f.dataset.media,
                revealed: f.classList.contains('revealed'),
                filter: img ? getComputedStyle(img).filter : null,
                loaded: img ? (img.complete && img.naturalWidth > 0) : false,
            };
        })""",
    )
    return state
