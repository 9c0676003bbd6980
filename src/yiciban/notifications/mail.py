"""E-mail through Django's mail framework (the SMTP backend in production, configured by
EMAIL_URL), with SMTP answers sorted into permanent and temporary failures."""

from __future__ import annotations

import smtplib
from email.headerregistry import Address
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from .gateways import PermanentDeliveryError, TemporaryDeliveryError

# Without a timeout a dead mail server would hold a worker forever.
DEFAULT_SMTP_TIMEOUT = 30


def send_email(*, address: str, subject: str, body: str) -> str:
    """Send one plain-text UTF-8 message; return its Message-ID (our provider message id,
    which the receiving servers log, so a delivery can be traced)."""
    message_id = make_msgid(domain=_sender_domain())
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[address],
        headers={"Message-ID": message_id},
    )
    timeout = getattr(settings, "EMAIL_TIMEOUT", None) or DEFAULT_SMTP_TIMEOUT
    try:
        connection = get_connection(fail_silently=False, timeout=timeout)
        sent = connection.send_messages([message])
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _reply in exc.recipients.values()]
        if codes and all(code >= 500 for code in codes):
            raise PermanentDeliveryError(f"recipient refused ({codes[0]})") from exc
        raise TemporaryDeliveryError(f"recipient deferred ({codes[0] if codes else '?'})") from exc
    except smtplib.SMTPAuthenticationError as exc:
        # Our credentials, not the message: worth retrying once the operator fixes them.
        raise TemporaryDeliveryError(f"SMTP authentication failed ({exc.smtp_code})") from exc
    except smtplib.SMTPResponseException as exc:
        if exc.smtp_code >= 500:
            raise PermanentDeliveryError(f"SMTP refused the message ({exc.smtp_code})") from exc
        raise TemporaryDeliveryError(f"SMTP deferred the message ({exc.smtp_code})") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise TemporaryDeliveryError(f"SMTP unavailable: {type(exc).__name__}") from exc
    if sent != 1:
        raise TemporaryDeliveryError("mail backend reported the message as not sent")
    return message_id


def _sender_domain() -> str:
    # make_msgid() without a domain asks DNS for this host's name, which can stall.
    try:
        address = Address(addr_spec=_addr_spec(settings.DEFAULT_FROM_EMAIL))
        return address.domain or "yiciban.localhost"
    except (ValueError, IndexError):
        return "yiciban.localhost"


def _addr_spec(from_email: str) -> str:
    # "一次办 <noreply@example.gov.cn>" → "noreply@example.gov.cn"
    if "<" in from_email and from_email.rstrip().endswith(">"):
        return from_email.rsplit("<", 1)[1].rstrip().rstrip(">")
    return from_email.strip()
