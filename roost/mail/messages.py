"""The mails Roost sends: plain text, each with one link."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from roost.config import Settings


def _message(settings: Settings, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=settings.domain.split(":")[0])
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message


def confirmation(settings: Settings, to: str, username: str, link: str) -> EmailMessage:
    title = settings.instance_title
    body = (
        f"Hello @{username},\n\n"
        f"someone (we hope you) signed up on {title} ({settings.base_url}) with this address.\n"
        f"To confirm it, open this link within two days:\n\n{link}\n\n"
        "If this was not you, ignore this message; nothing more will be sent.\n"
    )
    return _message(settings, to, f"Confirm your address on {title}", body)


def password_reset(settings: Settings, to: str, username: str, link: str) -> EmailMessage:
    title = settings.instance_title
    body = (
        f"Hello @{username},\n\n"
        f"someone asked to reset the password of your account on {title}.\n"
        f"To choose a new password, open this link within an hour:\n\n{link}\n\n"
        "If you did not ask, ignore this message: your password stays as it is.\n"
        "Choosing a new password signs you out everywhere.\n"
    )
    return _message(settings, to, f"Reset your password on {title}", body)


def report_resolved(
    settings: Settings, to: str, username: str, target_username: str
) -> EmailMessage:
    title = settings.instance_title
    body = (
        f"Hello @{username},\n\n"
        f"thank you for your report about @{target_username} on {title}.\n"
        "The moderators have reviewed it and closed it.\n"
        "Any action they took follows the instance's rules:\n\n"
        f"{settings.base_url}/about\n"
    )
    return _message(settings, to, f"Your report on {title} was reviewed", body)


# What each strike's action did, as the mail says it.
_ACTION_WORDS = {
    "none": "The moderators sent you a warning.",
    "sensitive": "From now on, media you post will be marked as sensitive.",
    "disable": "Your login has been disabled; the account and its posts stay.",
    "silence": "Your account is limited: only people who follow you see your posts.",
    "suspend": "Your account has been suspended.",
}


def account_warning(
    settings: Settings, to: str, username: str, action: str, text: str, link: str
) -> EmailMessage:
    title = settings.instance_title
    said = f"\nThe moderators wrote:\n\n{text}\n" if text else ""
    body = (
        f"Hello @{username},\n\n"
        f"the moderators of {title} took action on your account.\n"
        f"{_ACTION_WORDS.get(action, '')}\n{said}\n"
        "You can read it, and appeal it once within 20 days, here:\n\n"
        f"{link}\n"
    )
    return _message(settings, to, f"A moderation decision about your account on {title}", body)
