"""Signing oneself up: the one set of rules behind the API's
``POST /api/v1/accounts`` and the web's sign-up page.

``ROOST_REGISTRATIONS`` decides: ``open`` lets anyone in, ``approval`` makes
an account that waits for a moderator (``roost accounts approve``),
``closed`` refuses. An invite code (roost/domain/invites) lets its holder in
whatever the mode, approved at once. Either way the rules must be accepted,
and the address is confirmed by the link mailed to it before the password
signs in (or the account's tokens work, as in Mastodon).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update

from roost.config import Registrations, Settings
from roost.db.engine import Tx
from roost.db.tables import users
from roost.domain.accounts import email_tokens
from roost.domain.accounts.actions import NewAccount, do_create_account
from roost.domain.accounts.email_domains import check_sign_up_email
from roost.domain.accounts.link_mail import enqueue_link_mail
from roost.domain.blocks import canonical_emails
from roost.domain.blocks import ip as ip_blocks
from roost.domain.invites.actions import do_use_invite
from roost.domain.spam.clustering import do_record_sign_up_network
from roost.domain.spam.minhash import network_of
from roost.errors import Forbidden
from roost.ratelimit import Limit

CLOSED = "Registrations are closed on this server"
BLOCKED_RANGE = "This action is not allowed"


def sign_up_limit(settings: Settings, address: str) -> Limit:
    """Sign-ups from one address (ROOST_RATE_LIMIT_SIGN_UPS per
    ROOST_RATE_LIMIT_SIGN_UPS_WINDOW_S), through the API and the web alike."""
    return Limit(
        f"sign-up:addr:{address}",
        settings.rate_limit_sign_ups,
        settings.rate_limit_sign_ups_window_s,
    )


@dataclass(frozen=True)
class SignUp:
    username: str
    email: str
    password: str
    agreement: bool
    locale: str = "en"
    reason: str | None = None
    invite_code: str | None = None
    # Where the sign-up comes from (None: not known): checked against the IP
    # blocks, and its network kept as a feature of the account's posts for
    # spam-wave clustering (roost/domain/spam).
    address: str | None = None


@dataclass(frozen=True)
class SignedUp:
    account_id: int
    approved: bool


async def do_sign_up(tx: Tx, mode: Registrations, request: SignUp) -> SignedUp:
    """Create the account and queue its confirmation mail. Forbidden when
    registrations are closed and no usable invite is given; FieldsInvalid
    naming every field that breaks a rule (agreement, name, address,
    password, reason; an address at a blocked e-mail domain); Invalid for a
    spent invite. Staff's blocks apply first: an address range with
    ``sign_up_block`` or ``no_access`` is Forbidden, one with
    ``sign_up_requires_approval`` waits for a moderator even with an invite;
    an address blocked in its canonical form is refused like a blocked
    e-mail domain."""
    held = False
    if request.address is not None:
        severity = await ip_blocks.severity_for(tx.conn, request.address)
        if severity in ("sign_up_block", "no_access"):
            raise Forbidden(BLOCKED_RANGE)
        held = severity == "sign_up_requires_approval"
    await check_sign_up_email(tx.conn, request.email)
    await canonical_emails.check_sign_up_email(tx.conn, request.email)
    invite_id: int | None = None
    if request.invite_code:
        invite_id = (await do_use_invite(tx, request.invite_code)).id
        approved = not held
    elif mode == Registrations.CLOSED:
        raise Forbidden(CLOSED)
    else:
        approved = mode == Registrations.OPEN and not held
    reason = (request.reason or "").strip() or None
    account_id = await do_create_account(
        tx,
        NewAccount(
            username=request.username,
            email=request.email,
            password=request.password,
            approved=approved,
            reason=reason,
            locale=(request.locale or "en")[:16],
            confirmed=False,
            signed_up=True,
            agreement=request.agreement,
        ),
    )
    if invite_id is not None:
        # Which invite brought the account in (the admin API's ``invited_by``).
        await tx.execute(
            update(users).where(users.c.account_id == account_id).values(invite_id=invite_id)
        )
    await do_record_sign_up_network(tx, account_id, network_of(request.address))
    await enqueue_link_mail(tx, account_id, email_tokens.CONFIRM)
    return SignedUp(account_id, approved)
