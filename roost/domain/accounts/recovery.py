"""Getting back into an account by e-mail: asking for a password reset, and
setting the new password with the link.

A reset is asked for by address or user name and always answers the same, so
the form does not tell who has an account here. Setting the new password
signs the account out everywhere, as Mastodon does: every browser session
ends and every access token is revoked (whoever knew the old password may
have made some). The link also proves the address, so it confirms it.
"""

from __future__ import annotations

from sqlalchemy import select, update

from roost.db.engine import Tx
from roost.db.tables import users
from roost.domain.accounts import email_tokens, passwords
from roost.domain.accounts.actions import EMAIL, do_confirm_email
from roost.domain.accounts.link_mail import enqueue_link_mail
from roost.domain.accounts.queries import credentials_for
from roost.domain.oauth.actions import do_revoke_all_for_account
from roost.domain.sessions.actions import do_end_all_sessions
from roost.errors import Invalid, RuleBroken
from roost.keys.ring import email_index, seal


def check_password(password: str) -> None:
    if not passwords.MIN_LENGTH <= len(password) <= passwords.MAX_LENGTH:
        raise RuleBroken(f"Password must be at least {passwords.MIN_LENGTH} characters")


async def do_request_reset(tx: Tx, login: str) -> bool:
    """Queue a reset link for the account of ``login`` (address or name), if
    there is one that may sign in; whether one was queued is for tests and
    logs, never for the person asking."""
    creds = await credentials_for(tx.conn, login)
    if creds is None or creds.suspended:
        return False
    await enqueue_link_mail(tx, creds.account_id, email_tokens.RESET)
    return True


async def do_reset_password(tx: Tx, secret_key: str, token: str, new_password: str) -> int:
    """Set the password with a reset link; returns the account id. Invalid for
    a used, expired or forged link or a password that breaks the rules."""
    check_password(new_password)
    redeemed = await email_tokens.do_redeem(tx, secret_key, token, email_tokens.RESET)
    password_hash = await passwords.hash_password(new_password)
    await tx.execute(
        update(users)
        .where(users.c.account_id == redeemed.account_id)
        .values(password_hash=password_hash)
    )
    await do_end_all_sessions(tx, redeemed.account_id)
    await do_revoke_all_for_account(tx, redeemed.account_id)
    await do_confirm_email(tx, redeemed.account_id)
    return redeemed.account_id


async def do_confirm_with_link(tx: Tx, secret_key: str, token: str) -> int:
    """Confirm the address a confirmation link was mailed to; the account id."""
    redeemed = await email_tokens.do_redeem(tx, secret_key, token, email_tokens.CONFIRM)
    await do_confirm_email(tx, redeemed.account_id)
    return redeemed.account_id


async def do_resend_confirmation(tx: Tx, account_id: int, new_email: str | None = None) -> None:
    """Mail a new confirmation link (to ``new_email`` first, if given); Invalid
    when the address is confirmed already."""
    row = (
        await tx.execute(select(users.c.confirmed_at).where(users.c.account_id == account_id))
    ).first()
    if row is None or row.confirmed_at is not None:
        raise Invalid("This method is only available while the e-mail is awaiting confirmation")
    if new_email:
        if not EMAIL.match(new_email) or len(new_email) > 320:
            raise RuleBroken("Email is not a valid address")
        taken = (
            await tx.execute(
                select(users.c.account_id).where(
                    users.c.email_key == email_index(new_email), users.c.account_id != account_id
                )
            )
        ).first()
        if taken is not None:
            raise RuleBroken(f"Email {new_email} is already registered")
        await tx.execute(
            update(users)
            .where(users.c.account_id == account_id)
            .values(email=seal(account_id, new_email), email_key=email_index(new_email))
        )
    await enqueue_link_mail(tx, account_id, email_tokens.CONFIRM)
