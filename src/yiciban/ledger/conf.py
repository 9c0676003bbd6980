"""Ledger settings, read from settings.YICIBAN with defaults.

LEDGER_ORIGIN                     the checkpoint origin and signing key name: an ASCII
                                  schema-less URL naming this deployment's log
                                  (env YICIBAN_LEDGER_ORIGIN), default yiciban.example/ledger
LEDGER_INTEGRATION_DELAY_SECONDS  how long appends may wait before an integration task is
                                  due (default 0.1)
"""

from __future__ import annotations

from django.conf import settings

from .note import check_key_name

DEFAULT_ORIGIN = "yiciban.example/ledger"
DEFAULT_INTEGRATION_DELAY = 0.1
KEY_NAME = "ledger"  # core.keys name of the log's signing key
MAX_BATCH = 10_000  # entries integrated per transaction


def _platform() -> dict:
    return getattr(settings, "YICIBAN", {}) or {}


def origin() -> str:
    value = _platform().get("LEDGER_ORIGIN") or DEFAULT_ORIGIN
    if not value.isascii():
        raise ValueError("YICIBAN['LEDGER_ORIGIN'] must be ASCII (e.g. gov.example/ledger)")
    check_key_name(value)
    return value


def integration_delay() -> float:
    return float(_platform().get("LEDGER_INTEGRATION_DELAY_SECONDS", DEFAULT_INTEGRATION_DELAY))
