"""This app's settings, read at call time (so tests and `override_settings` take effect)
with defaults that make a fresh install work without configuration: SMS goes to a file in
the instance folder, retries follow a bounded exponential backoff."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.conf import settings

DEFAULT_SMS_GATEWAY = "yiciban.notifications.gateways.FileSmsGateway"


def sms_gateway_path() -> str:
    return getattr(settings, "YICIBAN_SMS_GATEWAY", "") or DEFAULT_SMS_GATEWAY


def sms_file_path() -> Path:
    configured = getattr(settings, "YICIBAN_SMS_FILE", "")
    if configured:
        return Path(configured)
    return Path(settings.INSTANCE_DIR) / "outbox" / "sms.jsonl"


def sms_http_url() -> str:
    return getattr(settings, "YICIBAN_SMS_HTTP_URL", "")


def sms_http_key() -> str:
    return getattr(settings, "YICIBAN_SMS_HTTP_KEY", "")


def sms_http_timeout() -> float:
    return float(getattr(settings, "YICIBAN_SMS_HTTP_TIMEOUT", 10))


def max_attempts() -> int:
    return max(1, int(getattr(settings, "YICIBAN_OUTBOX_MAX_ATTEMPTS", 6)))


def retry_base() -> dt.timedelta:
    return dt.timedelta(seconds=int(getattr(settings, "YICIBAN_OUTBOX_RETRY_BASE_SECONDS", 60)))


def retry_cap() -> dt.timedelta:
    return dt.timedelta(
        seconds=int(getattr(settings, "YICIBAN_OUTBOX_RETRY_MAX_SECONDS", 6 * 3600))
    )


def sending_lease() -> dt.timedelta:
    """How long a claimed message may stay "sending" before the sweeper assumes its worker
    died. Far longer than any gateway timeout, so a live send is never taken over."""
    return dt.timedelta(seconds=int(getattr(settings, "YICIBAN_OUTBOX_LEASE_SECONDS", 600)))


def sweep_grace() -> dt.timedelta:
    """How late a due message must be before the sweeper enqueues it again: its own deferred
    task normally runs first, so the sweeper only catches ones whose task was lost."""
    return dt.timedelta(seconds=int(getattr(settings, "YICIBAN_OUTBOX_SWEEP_GRACE_SECONDS", 60)))


def public_url() -> str:
    """Base URL used to turn a notification's relative link into one an SMS or e-mail can
    carry ("https://zwfw.example.gov.cn"). Empty: relative links are left out of them."""
    return getattr(settings, "YICIBAN_PUBLIC_URL", "").rstrip("/")
