"""SMS gateways. A gateway is any class with `send(phone, text) -> provider_message_id`
that raises PermanentDeliveryError when retrying cannot help (number refused, bad request,
wrong credentials at the provider's word) and TemporaryDeliveryError when it may
(timeout, provider overloaded). The one in use is named by the YICIBAN_SMS_GATEWAY setting.

Shipped: FileSmsGateway (development default: appends each message to a file in the
instance folder) and HttpSmsGateway (a provider's JSON API, by URL and key)."""

from __future__ import annotations

import fcntl
import json
import os
import urllib.error
import urllib.request
import uuid
from typing import Protocol, runtime_checkable

from django.utils import timezone
from django.utils.module_loading import import_string

from . import conf


class DeliveryError(Exception):
    """A channel could not deliver a message. The text must hold no personal data."""


class PermanentDeliveryError(DeliveryError):
    """Retrying the same message will not help: dead-letter it at once."""


class TemporaryDeliveryError(DeliveryError):
    """The message may go through later: retry with backoff."""


@runtime_checkable
class SmsGateway(Protocol):
    def send(self, phone: str, text: str) -> str: ...


def get_sms_gateway() -> SmsGateway:
    gateway_class = import_string(conf.sms_gateway_path())
    return gateway_class()


class FileSmsGateway:
    """Writes each SMS as one JSON line to YICIBAN_SMS_FILE (default
    <instance>/outbox/sms.jsonl): what a provider would have received, for development and
    the demo. The file stands in for the provider's inbox, so it holds the number in clear;
    it is created readable by its owner only. Not for production."""

    def send(self, phone: str, text: str) -> str:
        path = conf.sms_file_path()
        message_id = f"file-{uuid.uuid4().hex}"
        line = json.dumps(
            {
                "id": message_id,
                "at": timezone.now().isoformat(),
                "phone": phone,
                "text": text,
            },
            ensure_ascii=False,
        )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as handle:
                # Several worker processes may append at once; a lock keeps lines whole.
                fcntl.flock(handle, fcntl.LOCK_EX)
                handle.write(line + "\n")
        except OSError as exc:
            raise TemporaryDeliveryError(f"cannot write SMS file: {exc.strerror}") from exc
        return message_id


class HttpSmsGateway:
    """A provider's JSON API: POST {"phone": ..., "text": ...} to YICIBAN_SMS_HTTP_URL with
    `Authorization: Bearer <YICIBAN_SMS_HTTP_KEY>`; a 2xx answer carries
    {"message_id": "..."}. 408, 429 and 5xx are temporary; other 4xx are permanent."""

    TEMPORARY_STATUSES = frozenset({408, 425, 429})

    def __init__(self, url: str = "", key: str = "", timeout: float | None = None):
        self.url = url or conf.sms_http_url()
        self.key = key or conf.sms_http_key()
        self.timeout = timeout if timeout is not None else conf.sms_http_timeout()
        if not self.url.startswith(("http://", "https://")):
            # A configuration slip, not the message's fault: retrying gives the operator the
            # backoff window to fix the setting before anything is given up.
            raise TemporaryDeliveryError("YICIBAN_SMS_HTTP_URL is not set to an http(s) URL")

    def send(self, phone: str, text: str) -> str:
        payload = json.dumps({"phone": phone, "text": text}, ensure_ascii=False).encode()
        request = urllib.request.Request(
            self.url,
            data=payload,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Accept": "application/json",
                "Authorization": f"Bearer {self.key}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            reason = _provider_reason(exc)
            if exc.code >= 500 or exc.code in self.TEMPORARY_STATUSES:
                raise TemporaryDeliveryError(f"provider answered {exc.code}: {reason}") from exc
            raise PermanentDeliveryError(f"provider answered {exc.code}: {reason}") from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise TemporaryDeliveryError(f"provider unreachable: {_reason_text(exc)}") from exc
        try:
            message_id = json.loads(raw).get("message_id")
        except (ValueError, AttributeError):
            message_id = None
        if not message_id:
            # The provider took the request but gave no id: it may have sent the SMS, so a
            # retry could send it twice. Stop and let an operator look.
            raise PermanentDeliveryError("provider answered without a message_id")
        return str(message_id)


def _reason_text(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    return str(reason if reason is not None else exc)[:200]


def _provider_reason(exc: urllib.error.HTTPError) -> str:
    """The provider's own error text if it sent JSON {"error": ...}, else the HTTP reason."""
    try:
        body = json.loads(exc.read() or b"{}")
        detail = body.get("error") or body.get("message") or ""
    except (ValueError, AttributeError, OSError):
        detail = ""
    return str(detail or exc.reason)[:200]
