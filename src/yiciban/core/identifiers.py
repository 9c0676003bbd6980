"""National identifiers: the unified social credit code (GB 32100-2015, with the embedded
organisation code of GB 11714-1997) and the resident identity number (GB 11643-1999,
check character by ISO 7064 MOD 11-2). Every check returns a reason a person can act on."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

# GB 32100: the 31 characters in use (no I, O, S, V, Z).
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {ch: i for i, ch in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 3^(i-1) mod 31 for positions 1..17
_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]
_RESIDENT_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]  # 2^(18-i) mod 11, i = 1..17
_RESIDENT_RE = re.compile(r"^[0-9]{17}[0-9X]$")  # ASCII only: \d also matches ٣, ３ …

# Registration authority (position 1) → organisation categories (position 2) allowed.
_USCC_CATEGORIES = {
    "1": "1239",  # 机构编制: 机关, 事业单位, 群团, 其他
    "2": "19",  # 外交
    "3": "123459",  # 司法行政: 律师执业机构, 公证处, 基层法律服务所, 司法鉴定机构, 仲裁委员会, 其他
    "4": "19",  # 文化
    "5": "1239",  # 民政: 社会团体, 民办非企业单位, 基金会, 其他
    "6": "129",  # 旅游
    "7": "129",  # 宗教
    "8": "19",  # 工会
    "9": "123",  # 市场监管 (工商): 企业, 个体工商户, 农民专业合作社
    "A": "19",  # 中央军委改革和编制办公室
    "N": "1239",  # 农业: 组级, 村级, 乡镇级集体经济组织, 其他
    "Y": "1",  # 其他
}

# First two digits of GB/T 2260 codes in use (provinces, autonomous regions, municipalities,
# and Taiwan, Hong Kong, Macao as used on resident identity cards).
PROVINCE_CODES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
    "50 51 52 53 54 61 62 63 64 65 71 81 82 83".split()
)

# Registration at national level (e.g. central government bodies: 11100000…) uses the code of
# the People's Republic itself in place of a province.
NATIONAL_REGION = "100000"

# USCCs issued before the check rules were enforced that are in circulation and fail them.
# Add a code only with the issuing authority's confirmation.
USCC_OVERRIDES: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CheckResult:
    valid: bool
    reason: str | None = None
    rule: str | None = None  # machine name of the rule broken, for API field errors

    def __bool__(self) -> bool:
        return self.valid


def _fail(rule: str, reason: str) -> CheckResult:
    return CheckResult(valid=False, reason=reason, rule=rule)


def _normalize(value: str) -> str:
    # NFKC folds full-width input (９１４３…, Ｘ), common from Chinese input methods, to ASCII.
    return unicodedata.normalize("NFKC", value).strip().upper()


def normalize_uscc(value: str) -> str:
    return _normalize(value)


def uscc_check_char(first17: str) -> str:
    total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def org_code_check_char(first8: str) -> str:
    """GB 11714 check character of the 9-character organisation code."""
    total = 0
    for ch, weight in zip(first8, _ORG_WEIGHTS, strict=True):
        value = int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10
        total += value * weight
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def check_uscc(value: str) -> CheckResult:
    code = normalize_uscc(value)
    if len(code) != 18:
        return _fail("length", _("统一社会信用代码应为18位，实际为%(n)d位") % {"n": len(code)})
    bad = sorted({c for c in code if c not in _USCC_VALUE})
    if bad:
        return _fail(
            "alphabet",
            _("统一社会信用代码含有不允许的字符：%(chars)s（不使用I、O、S、V、Z）")
            % {"chars": "".join(bad)},
        )
    if code in USCC_OVERRIDES:
        return CheckResult(valid=True)
    authority, category = code[0], code[1]
    if authority not in _USCC_CATEGORIES:
        return _fail("authority", _("第1位登记管理部门代码“%(c)s”无效") % {"c": authority})
    if category not in _USCC_CATEGORIES[authority]:
        return _fail(
            "category",
            _("第2位机构类别代码“%(c)s”与登记管理部门“%(a)s”不相符")
            % {"c": category, "a": authority},
        )
    region = code[2:8]
    if not region.isdigit() or (region != NATIONAL_REGION and region[:2] not in PROVINCE_CODES):
        return _fail("region", _("第3至8位登记管理机关行政区划码“%(r)s”无效") % {"r": code[2:8]})
    org_code = code[8:17]
    if org_code_check_char(org_code[:8]) != org_code[8]:
        return _fail(
            "org_code_check",
            _("第9至17位组织机构代码“%(o)s”校验码错误") % {"o": org_code},
        )
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        return _fail(
            "check_char",
            _("第18位校验码应为“%(e)s”，实际为“%(a)s”") % {"e": expected, "a": code[17]},
        )
    return CheckResult(valid=True)


def resident_id_check_char(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, _RESIDENT_WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def normalize_resident_id(value: str) -> str:
    return _normalize(value)


def check_resident_id(value: str, *, today: dt.date | None = None) -> CheckResult:
    number = normalize_resident_id(value)
    if len(number) != 18:
        return _fail("length", _("公民身份号码应为18位，实际为%(n)d位") % {"n": len(number)})
    if not _RESIDENT_RE.match(number):
        return _fail("format", _("公民身份号码前17位应为数字，第18位为数字或X"))
    if number[:2] not in PROVINCE_CODES:
        return _fail("region", _("前6位地址码“%(r)s”不是有效的行政区划") % {"r": number[:6]})
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return _fail("birth_date", _("第7至14位出生日期“%(d)s”不是有效日期") % {"d": number[6:14]})
    today = today or timezone.localdate()  # the day in Asia/Shanghai, not the server's
    if birth > today or birth.year < 1900:
        return _fail(
            "birth_date", _("第7至14位出生日期“%(d)s”不在合理范围内") % {"d": number[6:14]}
        )
    expected = resident_id_check_char(number[:17])
    if number[17] != expected:
        return _fail(
            "check_char",
            _("第18位校验码应为“%(e)s”，实际为“%(a)s”") % {"e": expected, "a": number[17]},
        )
    return CheckResult(valid=True)


def mask_resident_id(value: str) -> str:
    """430621********1234: region kept for the clerk, birth date and sequence hidden."""
    from .crypto import mask

    return mask(normalize_resident_id(value), keep_start=6, keep_end=4)


def mask_phone(value: str) -> str:
    """138****5678"""
    from .crypto import mask

    return mask(value.strip(), keep_start=3, keep_end=4)


def make_uscc(*, authority: str, category: str, region: str, org_body: str) -> str:
    """Compose a valid USCC from its parts (used by the demo data and tests): the 8-char
    organisation code body gets its GB 11714 check, the whole code its GB 32100 check."""
    body = authority + category + region + org_body + org_code_check_char(org_body)
    return body + uscc_check_char(body)
