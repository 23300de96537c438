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
    pass


def send(smtp_url: str, sender: str, mails: list[Mail], timeout: float = 15.0) -> str:
    """Send every mail; returns the transport used. Raises MailError when the server fails."""
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
            for m in mails:
                message = EmailMessage()
                message["From"] = sender
                message["To"] = m.to
                message["Subject"] = m.subject
                message.set_content(m.body)
                client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"{type(exc).__name__}: {exc}") from exc
    return "smtp"
