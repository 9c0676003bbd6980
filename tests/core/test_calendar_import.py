"""`yiciban calendar_import`: from the package or from an admin's JSON transcription of the
State Council notice; validated, all or nothing, audited."""

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from yiciban.core.calendar import (
    ScheduleDay,
    is_working_day,
    package_schedule,
    schedule_from_json,
)
from yiciban.core.errors import ValidationFailed
from yiciban.core.models import AuditEvent, CalendarDay, CalendarYear, User

D = dt.date

NOTICE = {
    "year": 2027,
    "official": True,
    "source": "国务院办公厅关于2027年部分节假日安排的通知（国办发明电〔2026〕9号）",
    "note": "由平台管理员转录",
    "days": [
        {"date": "2027-01-01", "kind": "holiday", "name": "元旦"},
        {"from": "2027-02-05", "to": "2027-02-11", "kind": "holiday", "name": "春节"},
        {"date": "2027-02-20", "kind": "makeup_workday", "name": "春节"},
    ],
}


def write(tmp_path, data, name="notice.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


# --- reading the file ---------------------------------------------------------------------
def test_a_notice_file_is_read_with_ranges_expanded():
    schedule = schedule_from_json(NOTICE)
    assert (schedule.year, schedule.official, schedule.note) == (2027, True, "由平台管理员转录")
    assert len(schedule.days) == 1 + 7 + 1
    assert schedule.days[1] == ScheduleDay(D(2027, 2, 5), "holiday", "春节")
    assert schedule.days[-1] == ScheduleDay(D(2027, 2, 20), "makeup_workday", "春节")


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"year": "2027"}, "year", "integer"),
        ({"year": 3000}, "year", "range"),
        ({"source": ""}, "source", "required"),
        ({"official": "yes"}, "official", "boolean"),
        ({"days": []}, "days", "required"),
        ({"colour": "red"}, "colour", "unknown_field"),
        (
            {"days": [{"date": "2027-02-30", "kind": "holiday", "name": "春节"}]},
            "days[0].date",
            "date",
        ),
        (
            {"days": [{"date": "20270201", "kind": "holiday", "name": "春节"}]},
            "days[0].date",
            "date",
        ),
        (
            {"days": [{"date": "2026-12-31", "kind": "holiday", "name": "元旦"}]},
            "days[0]",
            "year_mismatch",
        ),
        (
            {"days": [{"date": "2027-02-22", "kind": "makeup_workday", "name": "春节"}]},
            "days[0].date",
            "makeup_on_weekday",
        ),
        (
            {"days": [{"date": "2027-02-22", "kind": "workday", "name": "春节"}]},
            "days[0].kind",
            "choice",
        ),
        (
            {"days": [{"date": "2027-02-22", "kind": "holiday", "name": ""}]},
            "days[0].name",
            "required",
        ),
        (
            {
                "days": [
                    {"from": "2027-02-12", "to": "2027-02-05", "kind": "holiday", "name": "春节"}
                ]
            },
            "days[0].to",
            "range",
        ),
        (
            {"days": [{"from": "2027-02-12", "kind": "holiday", "name": "春节"}]},
            "days[0]",
            "date_or_range",
        ),
        (
            {
                "days": [
                    {
                        "date": "2027-02-12",
                        "from": "2027-02-12",
                        "to": "2027-02-13",
                        "kind": "holiday",
                        "name": "春节",
                    }
                ]
            },
            "days[0]",
            "date_or_range",
        ),
        ({"days": ["2027-02-12"]}, "days[0]", "object"),
        (
            {"days": [{"date": "2027-02-12", "kind": "holiday", "name": "春节", "working": True}]},
            "days[0].working",
            "unknown_field",
        ),
        (
            {
                "days": [
                    {"from": "2027-02-05", "to": "2027-02-11", "kind": "holiday", "name": "春节"},
                    {"date": "2027-02-08", "kind": "holiday", "name": "春节"},
                ]
            },
            "days[1].date",
            "duplicate",
        ),
    ],
)
def test_every_mistake_names_the_field_and_the_rule(change, field, rule):
    with pytest.raises(ValidationFailed) as caught:
        schedule_from_json({**NOTICE, **change})
    assert (field, rule) in {(e.field, e.rule) for e in caught.value.errors}


def test_all_mistakes_are_reported_at_once():
    bad = {
        **NOTICE,
        "source": "",
        "days": [
            {"date": "2027-13-01", "kind": "holiday", "name": "元旦"},
            {"date": "2027-02-22", "kind": "makeup_workday", "name": "春节"},
        ],
    }
    with pytest.raises(ValidationFailed) as caught:
        schedule_from_json(bad)
    assert [e.field for e in caught.value.errors] == ["source", "days[0].date", "days[1].date"]


def test_a_file_must_be_an_object():
    with pytest.raises(ValidationFailed) as caught:
        schedule_from_json([NOTICE])
    assert caught.value.errors[0].rule == "object"


# --- the command --------------------------------------------------------------------------
@pytest.mark.django_db
def test_import_from_a_file(tmp_path):
    admin = User.objects.create_superuser("ops", password=None)
    out = _run("--file", str(write(tmp_path, NOTICE)), "--as", "ops")
    assert "2027: 9 days imported, official" in out
    year = CalendarYear.objects.get(year=2027)
    assert (year.official, year.note) == (True, "由平台管理员转录")
    assert is_working_day(D(2027, 2, 8)).provisional is False
    assert is_working_day(D(2027, 2, 8)).working is False
    assert is_working_day(D(2027, 2, 20)).working is True
    event = AuditEvent.objects.get(action="core.calendar_year_import")
    assert (event.actor, event.channel) == (admin, "cli")


@pytest.mark.django_db
def test_a_bad_file_imports_nothing_and_lists_every_error(tmp_path):
    bad = {
        **NOTICE,
        "days": [*NOTICE["days"], {"date": "2027-02-22", "kind": "makeup_workday", "name": "春节"}],
    }
    with pytest.raises(CommandError) as caught:
        _run("--file", str(write(tmp_path, bad)))
    assert "days[3].date" in str(caught.value)
    assert not CalendarYear.objects.filter(year=2027).exists()
    assert not CalendarDay.objects.filter(date__year=2027).exists()


@pytest.mark.django_db
def test_reimport_needs_replace(tmp_path):
    path = write(tmp_path, NOTICE)
    _run("--file", str(path))
    with pytest.raises(CommandError, match="--replace"):
        _run("--file", str(path))
    smaller = {**NOTICE, "days": NOTICE["days"][:1]}
    assert "1 days imported" in _run("--file", str(write(tmp_path, smaller, "b.json")), "--replace")
    assert CalendarDay.objects.filter(date__year=2027).count() == 1


@pytest.mark.django_db
def test_import_a_year_from_the_package():
    CalendarYear.objects.filter(year=2026).delete()
    assert is_working_day(D(2026, 2, 16)).provisional is True
    out = _run("--year", "2026")
    expected = len(package_schedule(2026))
    assert out.startswith(f"2026: {expected} days imported, official; source: chinesecalendar")
    assert CalendarDay.objects.filter(date__year=2026).count() == expected
    info = is_working_day(D(2026, 2, 16))
    assert (info.working, info.name, info.provisional) == (False, "春节", False)


@pytest.mark.django_db
def test_a_year_the_package_does_not_know_is_explained():
    with pytest.raises(CommandError, match="chinesecalendar"):
        _run("--year", "2099")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "not valid JSON"), (None, "cannot read")],
)
def test_unreadable_files_are_reported(tmp_path, content, message):
    path = tmp_path / "notice.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(CommandError, match=message):
        _run("--file", str(path))


@pytest.mark.django_db
def test_unknown_acting_user_is_refused(tmp_path):
    with pytest.raises(CommandError, match="nobody"):
        _run("--file", str(write(tmp_path, NOTICE)), "--as", "nobody")
    assert not CalendarYear.objects.filter(year=2027).exists()


def _run(*args) -> str:
    out = StringIO()
    call_command("calendar_import", *args, stdout=out)
    return out.getvalue()
