"""The 12-digit statistical division code (统计用区划代码): six GB/T 2260 digits for the
province, city and county, three for the township, three for the village or community.
Pure functions, shared by the services, the API and the admin forms."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from yiciban.core.identifiers import PROVINCE_CODES, CheckResult

from .models import LEVEL_ORDER, RegionLevel

_CODE_RE = re.compile(r"^\d{12}$")
_LOOKUP_RE = re.compile(r"^(\d{6}|\d{9}|\d{12})$")
# Where each level's own digits sit in the code.
_SEGMENTS = ((0, 2), (2, 4), (4, 6), (6, 9), (9, 12))
_COUNTY_SEGMENT = 2
# Pattern for API parameters: a full code, or a six-digit GB/T 2260 / nine-digit township code.
LOOKUP_PATTERN = _LOOKUP_RE.pattern


def normalize_region_code(value: str) -> str:
    """'430623' → '430623000000'; nine digits (a township) are padded the same way. Returns
    the stripped input unchanged when it is no code at all, so the caller's check reports
    the original value."""
    value = value.strip()
    if _LOOKUP_RE.match(value):
        return value.ljust(12, "0")
    return value


def level_of_code(code: str) -> str | None:
    """The level a well-formed code's shape says, or None when the code is malformed.

    A code's own digits are its last non-zero segment; every segment before it must be
    non-zero — except the county segment of townships in cities without counties (东莞
    441900, 中山 442000, 儋州 460400, 嘉峪关 620200), whose townships follow the city
    digits directly."""
    if not _CODE_RE.match(code):
        return None
    nonzero = [int(code[a:b]) != 0 for a, b in _SEGMENTS]
    if not any(nonzero):
        return None
    last = max(i for i, flag in enumerate(nonzero) if flag)
    gaps = [i for i in range(last) if not nonzero[i]]
    if gaps and not (gaps == [_COUNTY_SEGMENT] and last > _COUNTY_SEGMENT):
        return None
    return LEVEL_ORDER[last]


def parent_level_for(code: str, level: str) -> str | None:
    """The level a region's parent must have (None for a province)."""
    index = LEVEL_ORDER.index(level)
    if index == 0:
        return None
    if level == RegionLevel.TOWNSHIP and code[4:6] == "00":
        # a township of a city without counties hangs under the city itself
        return RegionLevel.CITY
    return LEVEL_ORDER[index - 1]


def significant_prefix(code: str, level: str) -> str:
    """The digits a child's code must start with."""
    end = _SEGMENTS[LEVEL_ORDER.index(level)][1]
    return code[:end]


def check_region_code(code: str, level: str | None = None) -> CheckResult:
    """Is `code` a well-formed 12-digit statistical code (of `level`, if given)?"""
    if not _CODE_RE.match(code):
        return CheckResult(False, _("区划代码应为12位数字"), "format")
    if code[:2] not in PROVINCE_CODES:
        return CheckResult(False, _("前2位“%(p)s”不是有效的省级代码") % {"p": code[:2]}, "province")
    shape = level_of_code(code)
    if shape is None:
        return CheckResult(
            False, _("区划代码“%(c)s”的层级结构不正确（上级位段不能为0）") % {"c": code}, "shape"
        )
    if level is not None and level != shape:
        return CheckResult(
            False,
            _("区划代码“%(c)s”是%(shape)s级代码，与层级“%(level)s”不符")
            % {
                "c": code,
                "shape": RegionLevel(shape).label,
                "level": RegionLevel(level).label if level in RegionLevel.values else level,
            },
            "level",
        )
    return CheckResult(True)
