"""Every password check Roost makes, behind one set of attempt limits: the one
path every face takes (the web sign-in page, the OAuth authorize page, the
OAuth password grant, confirming a password to erase an account, and the
second factor of a two-factor sign-in).

Each attempt is reserved *before* the password is verified and refunded when
the password was right. Verifying takes tens of milliseconds in a thread;
counting failures only after it let a burst of concurrent guesses all be
checked before the first failure was counted. Now a burst gets at most as many
checks as the limit, and the rest answer 429 at once. Three limits, each over
ROOST_SIGN_IN_WINDOW_S:

- one address on one account (ROOST_SIGN_IN_ATTEMPTS): strict. A stranger's
  guesses block the stranger's address, not the owner signing in from another.
- one account from any address (ROOST_SIGN_IN_ACCOUNT_ATTEMPTS): looser. It caps
  guesses spread over many addresses; once it is reached the owner waits too.
- one address on any account (ROOST_SIGN_IN_ADDRESS_ATTEMPTS): looser. It caps
  one address trying passwords on many accounts.

"One account" is the account the login names (so its username and its e-mail
share one count), or the login as typed, normalised, when no account has it.
A right password also clears its address's strict count for that account.

The answer is the same for an unknown login, a wrong password and a suspended
account ("Invalid username, email or password"), and takes as long (an unknown
login is checked against a dummy hash). Only a correct password learns that the
account awaits confirmation of its address or approval.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from roost.config import Settings
from roost.db.engine import Database
from roost.domain.accounts.passwords import DUMMY_HASH, verify_password
from roost.domain.accounts.queries import Credentials, credentials_for, password_hash_of
from roost.errors import Forbidden, Invalid, RateLimited
from roost.ratelimit import Limit, RateLimiter, Reservation, account_key, hold

INVALID = "Invalid username, email or password"
UNCONFIRMED = "Your login is missing a confirmed e-mail address"
PENDING = "Your login is currently pending approval"
DISABLED = "Your login is currently disabled"
TOO_MANY = "Too many failed sign-in attempts; try again later"


@dataclass(frozen=True)
class PasswordGate:
    """What a password check needs besides the database: where attempts are
    counted, the limits, and a tally of outcomes (purpose, outcome) for
    ``roost_password_attempts_total``."""

    limiter: RateLimiter
    settings: Settings
    tally: Callable[[str, str], None] = lambda purpose, outcome: None

    def limits(self, account: str, address: str) -> list[Limit]:
        settings = self.settings
        window = settings.sign_in_window_s
        return [
            Limit(f"addr:{address}|{account}", settings.sign_in_attempts, window),
            Limit(account, settings.sign_in_account_attempts, window),
            Limit(f"addr:{address}", settings.sign_in_address_attempts, window),
        ]

    async def reserve(self, purpose: str, limits: list[Limit], refusal: str) -> Reservation:
        try:
            return await hold(self.limiter, limits, refusal)
        except RateLimited:
            self.tally(purpose, "limited")
            raise

    async def settle(
        self, purpose: str, reservation: Reservation, limits: list[Limit], accepted: bool
    ) -> None:
        self.tally(purpose, "accepted" if accepted else "rejected")
        if accepted:
            await self.limiter.refund(reservation)
            await self.limiter.reset(limits[0].key)

    async def checked(
        self, purpose: str, limits: list[Limit], refusal: str, check: Callable[[], Awaitable[bool]]
    ) -> bool:
        """Reserve an attempt, run ``check``, refund the attempt when it passed.
        An exception from ``check`` counts as a failed attempt."""
        reservation = await self.reserve(purpose, limits, refusal)
        accepted = False
        try:
            accepted = await check()
        finally:
            await self.settle(purpose, reservation, limits, accepted)
        return accepted


async def sign_in(
    db: Database, gate: PasswordGate, login: str, password: str, address: str
) -> Credentials:
    """The credentials of the account ``login`` (username or e-mail) names, when
    ``password`` is its password.

    Raises RateLimited (nothing was checked), Invalid (unknown login, wrong
    password or a suspended account: one message for all) or Forbidden (right
    password, address not confirmed, account awaiting approval or disabled).
    """
    async with db.read() as conn:
        creds = await credentials_for(conn, login)
    account = (
        account_key(creds.account_id)
        if creds
        else "login:" + login.strip().lower().removeprefix("@")
    )

    async def check() -> bool:
        ok = await verify_password(creds.password_hash if creds else DUMMY_HASH, password)
        return creds is not None and ok and not creds.suspended

    accepted = await gate.checked("sign_in", gate.limits(account, address), TOO_MANY, check)
    if creds is None or not accepted:
        raise Invalid(INVALID)
    if not creds.confirmed:
        raise Forbidden(UNCONFIRMED)
    if not creds.approved:
        raise Forbidden(PENDING)
    if creds.disabled:
        raise Forbidden(DISABLED)
    return creds


async def confirm_password(
    db: Database, gate: PasswordGate, account_id: int, password: str, address: str
) -> None:
    """Return when ``password`` is the account's own; raise RateLimited (nothing
    was checked) or Forbidden (a wrong password) otherwise."""
    async with db.read() as conn:
        stored = await password_hash_of(conn, account_id)

    async def check() -> bool:
        ok = await verify_password(stored or DUMMY_HASH, password)
        return stored is not None and ok

    limits = gate.limits(account_key(account_id), address)
    refusal = "Too many failed password attempts; try again later"
    if not await gate.checked("erasure", limits, refusal, check):
        raise Forbidden("The password is not correct")


def second_factor_limits(gate: PasswordGate, account_id: int, address: str) -> list[Limit]:
    """Codes of a two-factor sign-in are limited like passwords, under keys of
    their own (a code guess does not spend the password's attempts)."""
    return [
        Limit(f"otp|{limit.key}", limit.attempts, limit.window_s)
        for limit in gate.limits(account_key(account_id), address)
    ]
