"""The annual-report table of disclosure requests (收到和处理政府信息公开申请情况): received,
carried over, results by type and reason, carried forward, per year and region."""

import datetime as dt

import pytest
import time_machine

from yiciban.core.errors import ValidationFailed
from yiciban.openness import selectors, services

ID = "430623199001011237"


def _at(day):
    return time_machine.travel(dt.datetime.fromisoformat(f"{day}T10:00:00+08:00"), tick=False)


def _file(place, day, *, region=None, category="natural_person", actor=None, **extra):
    id_number = ID if category == "natural_person" else place.market.uscc
    with _at(day):
        return services.disclosure_request_file(
            actor=actor,
            region=region or place.county,
            requester_category=category,
            requester_name="申请人",
            id_number=id_number,
            phone="13807301234",
            description="请提供相关政府信息",
            delivery_method="online",
            **extra,
        ).request


def _answer(place, request, day, answer_type="disclosed", reason="", actor=None):
    with _at(day):
        services.disclosure_request_answer(
            actor=actor or place.people.county_editor,
            request=request,
            answer_type=answer_type,
            answer_reason=reason,
            answer_text="答复",
        )


@pytest.fixture
def year_2025(place):
    r1 = _file(place, "2024-12-20")
    _answer(place, r1, "2025-01-10")
    r2 = _file(place, "2024-11-01")
    _answer(place, r2, "2024-11-20")
    r3 = _file(place, "2025-03-03", category="commercial_enterprise")
    _answer(place, r3, "2025-03-20", "not_disclosed", "state_secret")
    _file(place, "2025-12-22")
    r5 = _file(place, "2025-06-02", region=place.township)
    _answer(place, r5, "2025-06-10", "not_processed", "repeated")
    r6 = _file(place, "2025-12-29")
    _answer(place, r6, "2026-01-05")
    _file(place, "2025-05-06", region=place.other_county)


def test_county_table_for_2025(place, year_2025):
    table = selectors.disclosure_statistics(year=2025, region=place.county)
    assert table.value("new") == 4
    assert table.value("new", "natural_person") == 3
    assert table.value("new", "commercial_enterprise") == 1
    assert table.value("carried_over") == 1
    assert table.value("result.disclosed") == 1
    assert table.value("result.not_disclosed.state_secret", "commercial_enterprise") == 1
    assert table.value("result.not_processed.repeated") == 1
    assert table.value("result.total") == 3
    assert table.value("carried_forward") == 2
    # the report's own check: 一 + 二 = 三(七) + 四, in every column
    for key, _label in table.columns:
        assert table.value("new", key) + table.value("carried_over", key) == (
            table.value("result.total", key) + table.value("carried_forward", key)
        )


def test_township_table_counts_only_its_own(place, year_2025):
    table = selectors.disclosure_statistics(year=2025, region=place.township)
    assert table.value("new") == 1
    assert table.value("result.not_processed.repeated") == 1
    assert table.value("carried_forward") == 0


def test_table_rows_follow_the_report_form(place, year_2025):
    table = selectors.disclosure_statistics(year=2025, region=place.county)
    labels = [row.label for row in table.rows]
    assert labels[0] == "一、本年新收政府信息公开申请数量"
    assert "（四）无法提供" in labels and "3.补正后申请内容仍不明确" in labels
    assert "5.要求行政机关确认或重新出具已获取信息" in labels
    assert labels[-1] == "四、结转下年度继续办理"
    assert [c for c, _l in table.columns][-1] == "total"


def test_abandoned_requests_count_under_other_handling(place):
    request = _file(place, "2025-11-03")
    with _at("2025-11-04"):
        services.disclosure_request_ask_correction(
            actor=place.people.county_editor,
            request=request,
            items=["请写明年度"],
            correction_days=1,
        )
    with _at("2025-11-10"):
        services.disclosure_request_abandon(actor=place.people.county_editor, request=request)
    table = selectors.disclosure_statistics(year=2025, region=place.county)
    assert table.value("result.other.overdue_correction") == 1


def test_year_out_of_range(place):
    with pytest.raises(ValidationFailed) as error:
        selectors.disclosure_statistics(year=1999, region=place.county)
    assert error.value.errors[0].field == "year"
