"""E-mail transport: SMTP when configured, the log otherwise."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import unquote, urlparse

from services.usecases.notifications import Mail

log = logging.getLogger("ballotdesk.mail")


class MailError(Exception):
    """The server could not take the mail now: it is sent again later."""


class Unsendable(MailError):
    """A mail no server will ever take (a header the e-mail library refuses): recorded once as
    failed, and not sent again."""


def _messages(sender: str, mails: list[Mail]) -> list[EmailMessage]:
    """The messages, headers built by the e-mail library alone (it refuses CR/LF in a header)."""
    built = []
    try:
        for m in mails:
            message = EmailMessage()
            message["From"] = sender
            message["To"] = m.to
            message["Subject"] = m.subject
            message.set_content(m.body)
            built.append(message)
    except (ValueError, TypeError) as exc:
        raise Unsendable(f"{type(exc).__name__}: {exc}") from exc
    return built


def send(smtp_url: str, sender: str, mails: list[Mail], timeout: float = 15.0) -> str:
    """Send every mail; returns the transport used. Raises MailError when the server fails, and
    Unsendable when a mail cannot be written at all."""
    messages = _messages(sender, mails)
    if not smtp_url:
        for m in mails:
            log.info("e-mail (no SMTP configured) to=%s subject=%s", m.to, m.subject)
        return "log"
    url = urlparse(smtp_url)
    host = url.hostname or "localhost"
    try:
        if url.scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                host, url.port or 465, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(host, url.port or 25, timeout=timeout)
            if url.scheme == "smtp+starttls":
                client.starttls(context=ssl.create_default_context())
        with client:
            if url.username:
                client.login(unquote(url.username), unquote(url.password or ""))
            for message in messages:
                client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"{type(exc).__name__}: {exc}") from exc
    return "smtp"
