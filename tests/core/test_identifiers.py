"""National identifiers: unified social credit code (GB 32100-2015 with the GB 11714
organisation code) and resident identity number (GB 11643-1999)."""

import datetime as dt

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from yiciban.core import identifiers
from yiciban.core.identifiers import (
    PROVINCE_CODES,
    USCC_ALPHABET,
    check_resident_id,
    check_uscc,
    make_uscc,
    mask_phone,
    mask_resident_id,
    org_code_check_char,
    resident_id_check_char,
    uscc_check_char,
)

# --- unified social credit code -----------------------------------------------------------
VALID_USCC = [
    "91350100M000100Y43",  # the example of GB 32100-2015
    "9135052155323005XL",
    "91110000600037341L",
    "91310000775785552L",
    "11100000000013127D",  # registered at national level: region 100000
    "12100000400000624D",
]


@pytest.mark.parametrize("code", VALID_USCC)
def test_valid_uscc(code):
    assert check_uscc(code) == identifiers.CheckResult(valid=True)


@pytest.mark.parametrize(
    "written",
    [
        "91350100m000100y43",  # lower case
        "  91350100M000100Y43\n",  # pasted with white space
        "９１３５０１００Ｍ０００１００Ｙ４３",  # full-width, as Chinese input methods type it
    ],
)
def test_uscc_as_people_type_it(written):
    assert check_uscc(written).valid
    assert identifiers.normalize_uscc(written) == "91350100M000100Y43"


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        ("91350100M000100Y44", "check_char"),
        ("91350100M000100Y4", "length"),
        ("91350100M000100Y433", "length"),
        ("", "length"),
        ("B1350100M000100Y43", "authority"),  # B is no registration authority
        ("94350100M000100Y43", "category"),  # market regulation has categories 1–3 only
        ("91000000M000100Y43", "region"),
        ("91990100M000100Y43", "region"),
        ("9135A100M000100Y43", "region"),
        ("91350100M00010000P", "org_code_check"),  # right final check, wrong 9th character
        ("91350100M000100Y4 ", "length"),  # trailing space stripped: 17 characters
        ("91350100M000 00Y43", "alphabet"),
    ],
)
def test_invalid_uscc(code, rule):
    result = check_uscc(code)
    assert (result.valid, result.rule) == (False, rule)
    assert result.reason


@pytest.mark.parametrize("letter", "IOSVZ")
def test_uscc_forbidden_letters(letter):
    code = "91350100M000100Y4" + letter
    result = check_uscc(code)
    assert (result.valid, result.rule) == (False, "alphabet")
    assert letter in result.reason


def test_uscc_reason_says_what_the_check_character_should_be():
    result = check_uscc("91350100M000100Y44")
    assert result.reason == "第18位校验码应为“3”，实际为“4”"


def test_uscc_override_list_admits_codes_in_circulation(monkeypatch):
    failing = "91350100M00010000P"  # fails the organisation-code check
    assert not check_uscc(failing).valid
    monkeypatch.setattr(identifiers, "USCC_OVERRIDES", frozenset({failing}))
    assert check_uscc(failing).valid
    assert check_uscc(failing.lower()).valid
    # The override does not open the door to unusable characters.
    assert check_uscc("91350100M00010000I").rule == "alphabet"


def test_check_characters_by_hand():
    # GB 11714 on M000100Y: M=22, Y=34; 22*3 + 1*5 + 34*2 = 139; 139 mod 11 = 7; 11 - 7 = 4.
    assert org_code_check_char("M000100Y") == "4"
    assert org_code_check_char("00000000") == "0"  # 11 - 0 = 11, written 0
    assert org_code_check_char("00000006") == "X"  # 6*2 = 12; 11 - 1 = 10, written X
    assert uscc_check_char("91350100M000100Y4") == "3"


# --- resident identity number ------------------------------------------------------------
@pytest.mark.parametrize(
    "number",
    [
        "11010519491231002X",  # the example of GB 11643-1999
        "11010519491231002x",  # lower-case x
        "110105200002290013",  # 29 February of a leap year
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width
    ],
)
def test_valid_resident_id(number):
    assert check_resident_id(number, today=dt.date(2026, 11, 27)).valid


@pytest.mark.parametrize(
    ("number", "rule"),
    [
        ("110105194912310021", "check_char"),
        ("110105491231002", "length"),  # the old 15-digit form
        ("11010519491231002XX", "length"),
        ("1101051949123100AX", "format"),
        ("X1010519491231002X", "format"),
        ("11010519491231002٣", "format"),  # Arabic-Indic digit: not ASCII
        ("001051194912310021", "region"),
        ("991051194912310021", "region"),
        ("110105194902300021", "birth_date"),  # 30 February
        ("110105194902290021", "birth_date"),  # 29 February 1949 (no leap year)
        ("110105194913010021", "birth_date"),  # month 13
        ("110105203001010021", "birth_date"),  # born in the future
        ("440524188001010014", "birth_date"),  # GB 11643's second example: born 1880
    ],
)
def test_invalid_resident_id(number, rule):
    result = check_resident_id(number, today=dt.date(2026, 11, 27))
    assert (result.valid, result.rule) == (False, rule)
    assert result.reason


def test_the_1880_example_has_a_right_check_character_but_an_implausible_birth():
    # Not a checksum failure: a birth year before 1900 is refused on purpose.
    assert resident_id_check_char("44052418800101001") == "4"


def test_reason_for_a_wrong_resident_check_character():
    result = check_resident_id("110105194912310021", today=dt.date(2026, 11, 27))
    assert result.reason == "第18位校验码应为“X”，实际为“1”"


def test_birth_date_is_judged_by_the_day_in_china():
    # 16:30 UTC on 1 January is already 2 January in Asia/Shanghai.
    number = "43062120240102" + "123"
    number += resident_id_check_char(number)
    with time_machine.travel(dt.datetime(2024, 1, 1, 16, 30, tzinfo=dt.UTC), tick=False):
        assert check_resident_id(number).valid
    with time_machine.travel(dt.datetime(2024, 1, 1, 15, 30, tzinfo=dt.UTC), tick=False):
        assert check_resident_id(number).rule == "birth_date"


def test_masks():
    assert mask_resident_id("43062119900101123X") == "430621********123X"
    assert mask_resident_id(" 43062119900101123x ") == "430621********123X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("123") == "***"


# --- properties ---------------------------------------------------------------------------
_CATEGORIES = identifiers._USCC_CATEGORIES


@st.composite
def usccs(draw):
    authority = draw(st.sampled_from(sorted(_CATEGORIES)))
    category = draw(st.sampled_from(_CATEGORIES[authority]))
    region = draw(
        st.one_of(
            st.just(identifiers.NATIONAL_REGION),
            st.builds(
                lambda p, rest: p + rest,
                st.sampled_from(sorted(PROVINCE_CODES)),
                st.text("0123456789", min_size=4, max_size=4),
            ),
        )
    )
    body = draw(st.text(USCC_ALPHABET, min_size=8, max_size=8))
    return make_uscc(authority=authority, category=category, region=region, org_body=body)


@st.composite
def resident_ids(draw):
    province = draw(st.sampled_from(sorted(PROVINCE_CODES)))
    rest = draw(st.text("0123456789", min_size=4, max_size=4))
    birth = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2026, 11, 27)))
    sequence = draw(st.text("0123456789", min_size=3, max_size=3))
    first17 = province + rest + birth.strftime("%Y%m%d") + sequence
    return first17 + resident_id_check_char(first17)


_REPLACEMENTS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@given(usccs())
def test_make_uscc_always_makes_valid_codes(code):
    assert check_uscc(code).valid, code


@given(usccs(), st.integers(min_value=0, max_value=17), st.sampled_from(_REPLACEMENTS))
def test_any_single_changed_character_of_a_uscc_is_detected(code, position, replacement):
    if code[position] == replacement:
        replacement = _REPLACEMENTS[(_REPLACEMENTS.index(replacement) + 1) % len(_REPLACEMENTS)]
    changed = code[:position] + replacement + code[position + 1 :]
    assert not check_uscc(changed).valid, (code, changed)


@given(resident_ids(), st.integers(min_value=0, max_value=17), st.sampled_from("0123456789X"))
def test_any_single_changed_character_of_a_resident_id_is_detected(number, position, replacement):
    today = dt.date(2026, 11, 27)
    assert check_resident_id(number, today=today).valid
    if number[position] == replacement:
        replacement = "0123456789X"[("0123456789X".index(replacement) + 1) % 11]
    changed = number[:position] + replacement + number[position + 1 :]
    assert not check_resident_id(changed, today=today).valid, (number, changed)
