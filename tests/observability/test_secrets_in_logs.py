"""No secret reaches a log line: a real ``roost serve`` with its whole output
captured, driven through every path that carries one, then searched.

Secrets used: a client secret (in a form body and in HTTP Basic), a password
(the sign-in form and the password grant), an authorization code and its PKCE
verifier, access tokens (Authorization header, ``?access_token=`` on REST, on
the streaming WebSocket and on Server-Sent Events, and as the WebSocket
subprotocol), a token that is not valid, the sign-in form's CSRF cookie and
token, and a request that fails with a logged exception while carrying a token.
Run as ``roost serve`` runs by default (info, text) and at debug level in JSON,
where libraries say the most.
"""

from __future__ import annotations

import base64
import hashlib
import re
import sqlite3
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from websockets.sync.client import connect

from tests.drills.support import ServerProcess, roost_env

PASSWORD = "Tr0ub4dor-and-3-more-words"
CALLBACK = "http://127.0.0.1:9/callback"
REFUSED_APP = "An app the database refuses"


def _refuse_one_app(database: Path) -> None:
    """A fault: the database aborts the insert of one application (a failing
    write deep in a request, which the server logs with its exception)."""
    with sqlite3.connect(database) as conn:
        conn.execute(
            "CREATE TRIGGER refuse_app BEFORE INSERT ON applications "
            f"WHEN NEW.name = '{REFUSED_APP}' "
            "BEGIN SELECT RAISE(ABORT, 'this application is refused'); END"
        )


class Secrets:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def add(self, name: str, value: str) -> str:
        assert value, name
        self.values[name] = value
        return value


def _exercise(server: ServerProcess, secrets: Secrets) -> None:
    url = server.url
    http = httpx.Client(base_url=url, timeout=10, follow_redirects=False)
    cli_token = secrets.add("cli token", server.cli("tokens", "create", "owner").strip())

    app = http.post(
        "/api/v1/apps",
        data={"client_name": "logs", "redirect_uris": CALLBACK, "scopes": "read write"},
    ).json()
    client_id = app["client_id"]
    client_secret = secrets.add("client secret", app["client_secret"])

    # The sign-in form, with PKCE: a CSRF cookie, a password, a code.
    verifier = secrets.add("code verifier", "pkce-verifier-" + "v" * 40)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = {
        "client_id": client_id,
        "redirect_uri": CALLBACK,
        "response_type": "code",
        "scope": "read write",
        "state": "s1",
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    page = http.get("/oauth/authorize", params=query)
    assert page.status_code == 200
    secrets.add("csrf cookie", http.cookies["roost_csrf"])
    csrf = secrets.add("csrf token", re.findall(r'name="csrf_token" value="([^"]+)"', page.text)[0])
    form = {**query, "csrf_token": csrf, "login": "owner", "decision": "approve"}
    wrong = http.post("/oauth/authorize", data={**form, "password": PASSWORD + "-not"})
    assert wrong.status_code == 422
    secrets.add("wrong password", PASSWORD + "-not")
    approved = http.post("/oauth/authorize", data={**form, "password": PASSWORD})
    assert approved.status_code == 302, approved.text
    code = secrets.add("code", parse_qs(urlparse(approved.headers["location"]).query)["code"][0])

    exchanged = http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "client_id": client_id,
            "client_secret": client_secret,
            "code_verifier": verifier,
        },
    )
    assert exchanged.status_code == 200, exchanged.text
    token = secrets.add("code token", exchanged.json()["access_token"])
    replayed = http.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK},
        auth=(client_id, client_secret),
    )
    assert replayed.status_code == 400
    granted = http.post(
        "/oauth/token",
        data={"grant_type": "password", "username": "owner", "password": PASSWORD},
        auth=(client_id, client_secret),
    )
    assert granted.status_code == 200, granted.text
    secrets.add("password grant token", granted.json()["access_token"])
    app_token = http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "read"},
        auth=(client_id, client_secret),
    )
    assert app_token.status_code == 200
    secrets.add("app token", app_token.json()["access_token"])

    bearer = {"Authorization": f"Bearer {token}"}
    assert http.get("/api/v1/accounts/verify_credentials", headers=bearer).status_code == 200
    posted = http.post("/api/v1/statuses", headers=bearer, data={"status": "hello"})
    assert posted.status_code == 200
    assert http.get("/api/v1/timelines/home", params={"access_token": cli_token}).status_code == 200
    bogus = secrets.add("invalid token", "not-a-real-token-but-secret-" + "x" * 20)
    assert http.get("/api/v1/timelines/home", params={"access_token": bogus}).status_code == 401

    ws = url.replace("http://", "ws://") + "/api/v1/streaming"
    with connect(f"{ws}?access_token={token}&stream=user") as socket:
        socket.send('{"type": "subscribe", "stream": "public"}')
    with connect(f"{ws}?stream=public", subprotocols=[cli_token]):  # type: ignore[list-item]
        pass
    try:
        with connect(f"{ws}?access_token={bogus}&stream=user"):
            pass
    except Exception:
        pass  # refused, as it should be: what matters is what was logged
    with http.stream("GET", "/api/v1/streaming/user", params={"access_token": token}) as events:
        assert events.status_code == 200
        next(events.iter_bytes())

    # A request that fails deep inside, carrying a token three ways.
    failed = http.post(
        "/api/v1/apps",
        params={"access_token": cli_token},
        headers={**bearer, "Cookie": f"roost_csrf={http.cookies['roost_csrf']}"},
        data={"client_name": REFUSED_APP, "redirect_uris": CALLBACK},
    )
    assert failed.status_code == 500
    http.close()


@pytest.mark.parametrize(("level", "fmt"), [("info", "text"), ("debug", "json")])
def test_given_every_secret_bearing_request_when_the_log_is_searched_then_no_secret_is_in_it(
    tmp_path: Path, level: str, fmt: str
) -> None:
    data = tmp_path / "data"
    env = roost_env(
        data_dir=str(data),
        secret_key="k" * 40,
        oauth_password_grant="true",
        log_format=fmt,
    )
    log_path = tmp_path / "server.log"
    server = ServerProcess(env, log_path, log_level=level)
    try:
        server.cli(
            "accounts", "create", "owner", "--email", "o@example.org", "--password", PASSWORD
        )
        _refuse_one_app(data / "roost.sqlite3")
        secrets = Secrets()
        secrets.add("password", PASSWORD)
        _exercise(server, secrets)
    finally:
        server.stop()
    log = log_path.read_text(errors="replace")
    leaks = {name: value for name, value in secrets.values.items() if value in log}
    assert not leaks, f"secrets in the log: {sorted(leaks)}"
    assert "[parameters:" not in log and "'parameters':" not in log
    # Still a useful log: requests by route and status, the socket, the failure.
    assert re.search(r"/oauth/token.*200|200.*/oauth/token", log)
    assert "/api/v1/streaming" in log and "[accepted]" in log
    assert "unhandled error on POST /api/v1/apps" in log
    assert "this application is refused" in log
