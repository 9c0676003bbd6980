import pytest

from yiciban.org.codes import (
    check_region_code,
    level_of_code,
    normalize_region_code,
    parent_level_for,
    significant_prefix,
)
from yiciban.org.models import RegionLevel


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("430000000000", RegionLevel.PROVINCE),
        ("430600000000", RegionLevel.CITY),
        ("430623000000", RegionLevel.COUNTY),
        ("430623100000", RegionLevel.TOWNSHIP),
        ("430623100201", RegionLevel.VILLAGE),
        # cities without counties (东莞): townships follow the city digits directly
        ("441900003000", RegionLevel.TOWNSHIP),
        ("441900003001", RegionLevel.VILLAGE),
    ],
)
def test_level_follows_the_code_shape(code, level):
    assert level_of_code(code) == level
    assert check_region_code(code, level).valid


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        ("43062300000", "format"),  # eleven digits
        ("43062300000A", "format"),
        ("000000000000", "province"),
        ("990000000000", "province"),
        ("430023000000", "shape"),  # a county under city "00"
        ("430623000001", "shape"),  # village digits under township "000"
    ],
)
def test_malformed_codes_name_the_rule(code, rule):
    result = check_region_code(code)
    assert not result.valid
    assert result.rule == rule
    assert result.reason


def test_a_township_with_a_zero_county_segment_hangs_under_its_city():
    # the shape alone cannot tell which cities have no counties; the parent rule does
    assert level_of_code("441900003000") == RegionLevel.TOWNSHIP
    assert parent_level_for("441900003000", RegionLevel.TOWNSHIP) == RegionLevel.CITY
    assert parent_level_for("430623100000", RegionLevel.TOWNSHIP) == RegionLevel.COUNTY
    assert parent_level_for("430623100201", RegionLevel.VILLAGE) == RegionLevel.TOWNSHIP
    assert parent_level_for("430000000000", RegionLevel.PROVINCE) is None


def test_level_must_match_the_shape():
    result = check_region_code("430623000000", RegionLevel.TOWNSHIP)
    assert not result.valid
    assert result.rule == "level"


def test_normalize_pads_gb2260_and_township_codes():
    assert normalize_region_code("430623") == "430623000000"
    assert normalize_region_code(" 430623100 ") == "430623100000"
    assert normalize_region_code("430623100201") == "430623100201"
    assert normalize_region_code("4306") == "4306"


def test_significant_prefix_per_level():
    assert significant_prefix("430000000000", RegionLevel.PROVINCE) == "43"
    assert significant_prefix("430600000000", RegionLevel.CITY) == "4306"
    assert significant_prefix("430623000000", RegionLevel.COUNTY) == "430623"
    assert significant_prefix("430623100000", RegionLevel.TOWNSHIP) == "430623100"
