"""Settings of the case engine, read from settings.YICIBAN with these defaults:

CASES_WARNING_DAYS        1     warning when this many working days or fewer are left
CASES_WARNING_SHARE       None  …or when no more than this share of the limit is left
CASES_GREEN_CHANNEL_CUT   0.6   green channel cuts the promised limit by this share
                                (at least 0.6: key projects get 60% or more off)
CASES_DEFERRAL_DAYS       5     working days to hand in deferred (容缺) materials
CASES_SUPPLEMENT_DAYS     10    working days to answer the one supplement notice
CASES_RECTIFICATION_DAYS  10    working days to rectify after a site inspection
CASES_MAX_EXTENSION_DAYS  30    the longest extension an approver may grant
CASES_APPEAL_INFO         the text telling an applicant how to appeal a refusal
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MIN_GREEN_CHANNEL_CUT = 0.6

DEFAULT_APPEAL_INFO = (
    "如不服本决定，可以自收到本决定之日起六十日内向本级人民政府或上一级主管部门申请行政复议，"
    "或者自收到本决定之日起六个月内依法向人民法院提起行政诉讼。"
)


def _get(name: str, default):
    return getattr(settings, "YICIBAN", {}).get(name, default)


def warning_days() -> int:
    return int(_get("CASES_WARNING_DAYS", 1))


def warning_share() -> float | None:
    share = _get("CASES_WARNING_SHARE", None)
    return float(share) if share is not None else None


def green_channel_cut() -> float:
    cut = float(_get("CASES_GREEN_CHANNEL_CUT", MIN_GREEN_CHANNEL_CUT))
    if not MIN_GREEN_CHANNEL_CUT <= cut <= 1:
        raise ImproperlyConfigured(
            "YICIBAN['CASES_GREEN_CHANNEL_CUT'] must lie between 0.6 and 1 "
            "(the green channel cuts promised limits by 60% or more)"
        )
    return cut


def deferral_days() -> int:
    return int(_get("CASES_DEFERRAL_DAYS", 5))


def supplement_days() -> int:
    return int(_get("CASES_SUPPLEMENT_DAYS", 10))


def rectification_days() -> int:
    return int(_get("CASES_RECTIFICATION_DAYS", 10))


def max_extension_days() -> int:
    return int(_get("CASES_MAX_EXTENSION_DAYS", 30))


def appeal_info() -> str:
    return str(_get("CASES_APPEAL_INFO", DEFAULT_APPEAL_INFO))
