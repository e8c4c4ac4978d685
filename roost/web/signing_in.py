"""The steps of signing in that the web pages and the OAuth authorize page
share: the password (roost/domain/accounts/sign_in.py), then, for an account
with two-factor sign-in, a code, then a browser session.

Between the password and the code the browser holds a *pending* token:
``<account id>.<expiry>.<HMAC under the secret key>``, good for five minutes,
naming an account whose password was just given. Codes are limited like
passwords (roost/domain/accounts/sign_in.py), under keys of their own,
reserved before the check.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import Response

from roost.domain.accounts import two_factor
from roost.domain.accounts.actions import do_record_sign_in
from roost.domain.accounts.queries import Credentials
from roost.domain.accounts.sign_in import TOO_MANY, second_factor_limits, sign_in
from roost.domain.sessions.actions import do_start_session
from roost.errors import Invalid
from roost.services import Services
from roost.web.viewer import client_ip, services, set_session_cookie

PENDING_TTL_S = 300
EXPIRED = "That took too long; enter your password again"


def _mac(secret: str, account_id: int, expires: int) -> str:
    message = f"2fa-pending:{account_id}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def pending_token(svc: Services, account_id: int) -> str:
    expires = int(time.time()) + PENDING_TTL_S
    return f"{account_id}.{expires}.{_mac(svc.settings.secret_key, account_id, expires)}"


def pending_account(svc: Services, token: str) -> int:
    """The account a pending token names; Invalid when forged or expired."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        raise Invalid(EXPIRED)
    account_id, expires = int(parts[0]), int(parts[1])
    if expires < time.time():
        raise Invalid(EXPIRED)
    if not hmac.compare_digest(_mac(svc.settings.secret_key, account_id, expires), parts[2]):
        raise Invalid(EXPIRED)
    return account_id


@dataclass(frozen=True)
class PasswordStep:
    credentials: Credentials
    needs_code: bool


async def password_step(svc: Services, request: Request, login: str, password: str) -> PasswordStep:
    creds = await sign_in(svc.db, svc.password_gate(), login, password, client_ip(request))
    async with svc.db.read() as conn:
        needs = await two_factor.is_enabled(conn, creds.account_id)
    return PasswordStep(creds, needs)


async def code_step(svc: Services, request: Request, account_id: int, code: str) -> str:
    """Check the second factor of a pending sign-in ("totp" or "recovery")."""
    gate = svc.password_gate()
    limits = second_factor_limits(gate, account_id, client_ip(request))
    used = ""

    async def check() -> bool:
        nonlocal used
        async with svc.db.write() as tx:
            used = await two_factor.do_verify(tx, account_id, code, svc.settings.secret_key)
        return True

    await gate.checked("second_factor", limits, TOO_MANY, check)
    return used


async def start_browser_session(request: Request, response: Response, account_id: int) -> None:
    svc = services(request)
    async with svc.db.write() as tx:
        started = await do_start_session(
            tx,
            account_id,
            ip=client_ip(request),
            user_agent=request.headers.get("user-agent"),
        )
        await do_record_sign_in(tx, account_id)
    set_session_cookie(request, response, started.token)
