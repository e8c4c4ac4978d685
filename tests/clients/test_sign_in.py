"""Getting a token the ways real apps do: from the operator's CLI, the password
grant, and the browser authorization-code flow (with and without PKCE)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlparse

import pytest
import requests
from mastodon import Mastodon, MastodonAPIError, MastodonIllegalArgumentError

from tests.clients.conftest import PASSWORD, LiveServer

pytestmark = pytest.mark.clients

OOB = "urn:ietf:wg:oauth:2.0:oob"
SCOPES = ["read", "write", "follow"]


class _FormReader(HTMLParser):
    """What a browser would submit: the form's action and its input fields,
    plus the text of the element with id="code" on the out-of-band page."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.code = ""
        self._in_code = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = found.get("action", "")
        elif tag == "input" and found.get("type") == "hidden" and "name" in found:
            self.fields[found["name"]] = found.get("value", "")
        self._in_code = found.get("id") == "code"

    def handle_data(self, data: str) -> None:
        if self._in_code:
            self.code += data.strip()

    def handle_endtag(self, tag: str) -> None:
        self._in_code = False


def _read(html: str) -> _FormReader:
    reader = _FormReader()
    reader.feed(html)
    return reader


def _pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _app(live_server: LiveServer, redirect_uri: str) -> Mastodon:
    client_id, client_secret = Mastodon.create_app(
        "roost sign-in test",
        scopes=SCOPES,
        redirect_uris=redirect_uri,
        api_base_url=live_server.url,
        request_timeout=10,
    )
    return live_server.client(client_id=client_id, client_secret=client_secret)


def _consent_form(browser: requests.Session, url: str) -> tuple[str, dict[str, str]]:
    page = browser.get(url, timeout=10)
    assert page.status_code == 200, page.text
    form = _read(page.text)
    assert form.action is not None, "the authorize page has no form"
    assert form.fields.get("csrf_token"), "the authorize form carries no CSRF token"
    return urljoin(page.url, form.action), form.fields


def _token_request(live_server: LiveServer, app: Mastodon, **fields: str) -> requests.Response:
    return requests.post(
        f"{live_server.url}/oauth/token",
        data={"client_id": app.client_id, "client_secret": app.client_secret, **fields},
        timeout=10,
    )


def test_given_cli_made_account_and_tokens_when_mastodon_py_uses_them_then_scopes_are_honoured(
    live_server: LiveServer,
) -> None:
    live_server.create_account("cli_made")
    writer = live_server.client(live_server.create_token("cli_made"))
    reader = live_server.client(live_server.create_token("cli_made", scopes="read"))

    assert writer.account_verify_credentials()["username"] == "cli_made"
    assert writer.status_post("posted with a CLI token")["account"]["username"] == "cli_made"
    assert reader.account_verify_credentials()["username"] == "cli_made"
    with pytest.raises(MastodonAPIError) as refused:
        reader.status_post("a read-only token may not post")
    assert refused.value.args[1] == 403


def test_given_the_password_grant_when_mastodon_py_logs_in_by_email_or_username_then_it_gets_tokens(
    live_server: LiveServer,
) -> None:
    (person,) = live_server.people("pw")
    app = _app(live_server, OOB)

    by_email = app.log_in(username=person.email, password=PASSWORD, scopes=SCOPES, allow_http=True)
    by_name = app.log_in(
        username=person.username, password=PASSWORD, scopes=SCOPES, allow_http=True
    )

    for token in (by_email, by_name):
        assert live_server.client(token).me()["id"] == person.id


def test_given_the_password_grant_when_the_password_is_wrong_then_no_token(
    live_server: LiveServer,
) -> None:
    (person,) = live_server.people("pwbad")
    app = _app(live_server, OOB)

    with pytest.raises(MastodonIllegalArgumentError):
        app.log_in(
            username=person.email, password="not the password", scopes=SCOPES, allow_http=True
        )


def test_given_pkce_when_a_browser_approves_then_the_redirected_code_needs_the_verifier(
    live_server: LiveServer,
) -> None:
    (person,) = live_server.people("pkce")
    redirect_uri = "http://127.0.0.1:9/callback"
    app = _app(live_server, redirect_uri)
    verifier, challenge = _pkce_pair()
    state = secrets.token_urlsafe(8)
    url = app.auth_request_url(
        redirect_uris=redirect_uri, scopes=SCOPES, state=state, allow_http=True
    )
    url += f"&code_challenge={challenge}&code_challenge_method=S256"
    browser = requests.Session()

    action, fields = _consent_form(browser, url)
    answer = browser.post(
        action,
        data={**fields, "login": person.email, "password": PASSWORD, "decision": "approve"},
        allow_redirects=False,
        timeout=10,
    )

    assert answer.status_code in (302, 303), answer.text
    location = urlparse(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect_uri
    query = parse_qs(location.query)
    assert query["state"] == [state]
    code = query["code"][0]
    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}

    wrong = _token_request(live_server, app, **exchange, code_verifier=_pkce_pair()[0])
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    missing = _token_request(live_server, app, **exchange)
    assert missing.status_code == 400

    right = _token_request(live_server, app, **exchange, code_verifier=verifier)
    assert right.status_code == 200, right.text
    assert live_server.client(right.json()["access_token"]).me()["id"] == person.id

    replayed = _token_request(live_server, app, **exchange, code_verifier=verifier)
    assert replayed.status_code == 400, "a code must be usable only once"


def test_given_an_out_of_band_app_when_the_user_approves_then_mastodon_py_exchanges_the_shown_code(
    live_server: LiveServer,
) -> None:
    (person,) = live_server.people("oob")
    app = _app(live_server, OOB)
    browser = requests.Session()
    action, fields = _consent_form(
        browser, app.auth_request_url(redirect_uris=OOB, scopes=SCOPES, allow_http=True)
    )

    shown = browser.post(
        action,
        data={**fields, "login": person.username, "password": PASSWORD, "decision": "approve"},
        timeout=10,
    )

    assert shown.status_code == 200, shown.text
    code = _read(shown.text).code
    assert code, "the out-of-band page shows no code"
    token = app.log_in(code=code, redirect_uri=OOB, scopes=SCOPES, allow_http=True)
    assert live_server.client(token).me()["id"] == person.id


def test_given_a_forged_csrf_token_when_the_form_is_posted_then_it_is_refused_without_a_code(
    live_server: LiveServer,
) -> None:
    (person,) = live_server.people("csrf")
    redirect_uri = "http://127.0.0.1:9/callback"
    app = _app(live_server, redirect_uri)
    browser = requests.Session()
    action, fields = _consent_form(
        browser, app.auth_request_url(redirect_uris=redirect_uri, scopes=SCOPES, allow_http=True)
    )

    forged = {**fields, "csrf_token": "0" * len(fields["csrf_token"])}
    answer = browser.post(
        action,
        data={**forged, "login": person.email, "password": PASSWORD, "decision": "approve"},
        allow_redirects=False,
        timeout=10,
    )

    assert answer.status_code == 403
    assert "code=" not in answer.headers.get("location", "")

    stranger = requests.Session()  # a cross-site post: right token, but no cookie
    answer = stranger.post(
        action,
        data={**fields, "login": person.email, "password": PASSWORD, "decision": "approve"},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 403


@pytest.mark.parametrize("redirect_uri", [OOB, "http://127.0.0.1:9/callback"])
def test_given_the_consent_page_when_the_user_denies_then_no_code_is_issued(
    live_server: LiveServer, redirect_uri: str
) -> None:
    app = _app(live_server, redirect_uri)
    browser = requests.Session()
    action, fields = _consent_form(
        browser,
        app.auth_request_url(redirect_uris=redirect_uri, scopes=SCOPES, allow_http=True),
    )

    answer = browser.post(action, data={**fields, "decision": "deny"}, allow_redirects=False)

    if redirect_uri == OOB:
        assert answer.status_code == 200
        assert _read(answer.text).code == ""
    else:
        assert answer.status_code in (302, 303)
        query = parse_qs(urlparse(answer.headers["location"]).query)
        assert query["error"] == ["access_denied"]
        assert "code" not in query
