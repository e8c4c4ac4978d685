"""Sending mail over SMTP (``ROOST_SMTP_URL``), off the event loop.

    smtp://host[:25]                   plain SMTP (a relay on the same host)
    smtp://user:pass@host:587?starttls=true   STARTTLS, required before login
    smtps://user:pass@host[:465]       TLS from the first byte

User name and password are percent-decoded. Nothing here logs the URL, the
password, or a message's body (which carries the links' tokens).
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage

from roost.addresses import SmtpTarget, parse_smtp_url


class MailNotConfigured(Exception):
    """ROOST_SMTP_URL is empty: mail cannot be sent."""


def _send_now(target: SmtpTarget, message: EmailMessage, timeout_s: float) -> None:
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if target.implicit_tls:
        client = smtplib.SMTP_SSL(target.host, target.port, timeout=timeout_s, context=context)
    else:
        client = smtplib.SMTP(target.host, target.port, timeout=timeout_s)
    with client:
        client.ehlo()
        if target.starttls:
            client.starttls(context=context)
            client.ehlo()
        if target.username is not None:
            client.login(target.username, target.password or "")
        client.send_message(message)


async def send(url: str, message: EmailMessage, timeout_s: float) -> None:
    """Deliver one message; raises MailNotConfigured, or what SMTP raised
    (OSError, smtplib.SMTPException), for the job to retry."""
    if not url:
        raise MailNotConfigured()
    await asyncio.to_thread(_send_now, parse_smtp_url(url), message, timeout_s)


def _probe_now(target: SmtpTarget, timeout_s: float) -> str:
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if target.implicit_tls:
        client = smtplib.SMTP_SSL(target.host, target.port, timeout=timeout_s, context=context)
    else:
        client = smtplib.SMTP(target.host, target.port, timeout=timeout_s)
    with client:
        code, _ = client.ehlo()
        if target.starttls:
            client.starttls(context=context)
            client.ehlo()
        if target.username is not None:
            client.login(target.username, target.password or "")
        return f"{target.host}:{target.port} answers (EHLO {code})"


async def probe(url: str, timeout_s: float) -> str:
    """Connect, greet (and log in, when the URL has a user): what the server
    said; raises what connecting raised."""
    return await asyncio.to_thread(_probe_now, parse_smtp_url(url), timeout_s)
