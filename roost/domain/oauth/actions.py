"""Applications, authorization codes and access tokens.

Tokens and codes are random, shown once, and stored only as SHA-256 digests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlparse

from sqlalchemy import select, update

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import applications, authorization_codes, oauth_tokens
from roost.domain.audit import events as audit_events
from roost.domain.audit.chain import CONSOLE, Staff
from roost.domain.oauth import scopes as scope_rules
from roost.errors import Invalid, RuleBroken, Unauthorized
from roost.ids import new_id

OOB = "urn:ietf:wg:oauth:2.0:oob"
CODE_LIFETIME = timedelta(minutes=10)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class RegisteredApp:
    id: int
    name: str
    website: str | None
    redirect_uris: list[str]
    scopes: frozenset[str]
    client_id: str
    client_secret: str


def _check_redirect_uris(raw: str) -> list[str]:
    uris = [u.strip() for u in raw.replace("\n", " ").split() if u.strip()]
    if not uris:
        raise RuleBroken("Redirect URI can't be blank")
    for uri in uris:
        if uri == OOB:
            continue
        parsed = urlparse(uri)
        if (
            not parsed.scheme
            or parsed.fragment
            or (parsed.scheme in {"http", "https"} and not parsed.netloc)
        ):
            raise RuleBroken(f"Redirect URI must be an absolute URI: {uri}")
    return uris


async def do_register_app(
    tx: Tx, name: str, redirect_uris: str, scopes: str | None, website: str | None
) -> RegisteredApp:
    if not name or not name.strip():
        raise RuleBroken("Application name can't be blank")
    if len(name) > 200:
        raise RuleBroken("Application name is too long (maximum is 200)")
    uris = _check_redirect_uris(redirect_uris or "")
    try:
        granted = scope_rules.parse(scopes)
    except scope_rules.ScopeError as error:
        raise RuleBroken(f"{error}") from None
    app = RegisteredApp(
        id=new_id(),
        name=name.strip(),
        website=website or None,
        redirect_uris=uris,
        scopes=granted,
        client_id=secrets.token_urlsafe(32),
        client_secret=secrets.token_urlsafe(32),
    )
    await tx.execute(
        applications.insert().values(
            id=app.id,
            name=app.name,
            website=app.website,
            redirect_uris="\n".join(uris),
            scopes=scope_rules.render(granted),
            client_id=app.client_id,
            client_secret=app.client_secret,
            created_at=utcnow(),
        )
    )
    return app


def app_from_row(row: object) -> RegisteredApp:
    return RegisteredApp(
        id=row.id,  # type: ignore[attr-defined]
        name=row.name,  # type: ignore[attr-defined]
        website=row.website,  # type: ignore[attr-defined]
        redirect_uris=row.redirect_uris.split("\n"),  # type: ignore[attr-defined]
        scopes=frozenset(row.scopes.split()),  # type: ignore[attr-defined]
        client_id=row.client_id,  # type: ignore[attr-defined]
        client_secret=row.client_secret,  # type: ignore[attr-defined]
    )


async def authenticate_client(tx: Tx, client_id: str, client_secret: str | None) -> RegisteredApp:
    row = (
        await tx.execute(select(applications).where(applications.c.client_id == client_id))
    ).first()
    if (
        row is None
        or client_secret is None
        or not hmac.compare_digest(row.client_secret, client_secret)
    ):
        raise Unauthorized(
            "Client authentication failed due to unknown client, no client authentication "
            "included, or unsupported authentication method."
        )
    return app_from_row(row)


@dataclass(frozen=True)
class IssuedToken:
    token: str
    scopes: frozenset[str]
    created_at_epoch: int
    id: int


async def do_issue_token(
    tx: Tx, account_id: int | None, application_id: int | None, granted: frozenset[str]
) -> IssuedToken:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    token_id = new_id()
    await tx.execute(
        oauth_tokens.insert().values(
            id=token_id,
            token_hash=digest(token),
            application_id=application_id,
            account_id=account_id,
            scopes=scope_rules.render(granted),
            created_at=now,
        )
    )
    if account_id is not None:
        await audit_events.staff_signed_in(tx, account_id, how="oauth")
    return IssuedToken(
        token=token, scopes=granted, created_at_epoch=int(now.timestamp()), id=token_id
    )


async def do_revoke_token(tx: Tx, application_id: int, token: str) -> None:
    """Revoke a token issued to this application; unknown tokens are ignored (RFC 7009)."""
    live = (
        oauth_tokens.c.token_hash == digest(token),
        oauth_tokens.c.application_id == application_id,
        oauth_tokens.c.revoked_at.is_(None),
    )
    owner = (await tx.execute(select(oauth_tokens.c.account_id).where(*live))).first()
    if owner is None:
        return
    await tx.execute(update(oauth_tokens).where(*live).values(revoked_at=utcnow()))
    await audit_events.tokens_revoked(tx, owner.account_id, 1, how="oauth")


async def do_revoke_all_for_account(tx: Tx, account_id: int, *, by: Staff = CONSOLE) -> int:
    """Revoke every live token of the account (``roost tokens revoke-all``)."""
    result = await tx.execute(
        update(oauth_tokens)
        .where(oauth_tokens.c.account_id == account_id, oauth_tokens.c.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    await audit_events.tokens_revoked(tx, account_id, int(result.rowcount), how="console", by=by)
    return int(result.rowcount)


async def do_create_code(
    tx: Tx,
    app: RegisteredApp,
    account_id: int,
    redirect_uri: str | None,
    granted: frozenset[str],
    code_challenge: str | None,
    code_challenge_method: str | None,
) -> str:
    """A one-time code for ``account_id``. ``redirect_uri`` is the one the
    authorize request named, None when it named none (the code then goes to the
    application's first registered URI); redeeming must repeat a named one."""
    code = secrets.token_urlsafe(32)
    await tx.execute(
        authorization_codes.insert().values(
            id=new_id(),
            code_hash=digest(code),
            application_id=app.id,
            account_id=account_id,
            # "" records that the request named none (the column is NOT NULL).
            redirect_uri=redirect_uri or "",
            scopes=scope_rules.render(granted),
            code_challenge=code_challenge,
            code_challenge_method=code_challenge_method,
            expires_at=utcnow() + CODE_LIFETIME,
        )
    )
    return code


def _pkce_matches(challenge: str, method: str | None, verifier: str | None) -> bool:
    if verifier is None:
        return False
    if method == "S256":
        computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        return hmac.compare_digest(computed.rstrip(b"=").decode(), challenge)
    return False


async def do_redeem_code(
    tx: Tx, app: RegisteredApp, code: str, redirect_uri: str | None, verifier: str | None
) -> IssuedToken:
    """Exchange a code for a token, once. Every failure reads the same to the client.

    RFC 6749 4.1.3: when the authorize request named a redirect_uri, this one
    must be identical, and present; when it named none, a redirect_uri given
    here must still be one the application registered.
    """
    invalid = Invalid(
        "The provided authorization grant is invalid, expired, revoked, does not match the "
        "redirection URI used in the authorization request, or was issued to another client."
    )
    row = (
        await tx.execute(
            select(authorization_codes).where(authorization_codes.c.code_hash == digest(code))
        )
    ).first()
    if row is None or row.application_id != app.id or row.used_at is not None:
        raise invalid
    if row.expires_at < utcnow():
        raise invalid
    if row.redirect_uri:
        if redirect_uri != row.redirect_uri:
            raise invalid
    elif redirect_uri is not None and redirect_uri not in app.redirect_uris:
        raise invalid
    if row.code_challenge and not _pkce_matches(
        row.code_challenge, row.code_challenge_method, verifier
    ):
        raise invalid
    used = await tx.execute(
        update(authorization_codes)
        .where(authorization_codes.c.id == row.id, authorization_codes.c.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if used.rowcount != 1:
        raise invalid
    return await do_issue_token(tx, row.account_id, app.id, frozenset(row.scopes.split()))
