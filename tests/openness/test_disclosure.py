"""Disclosure requests (依申请公开): 20 working days from receipt on the core calendar,
one extension of at most 20 days by the office head with notice, third-party consultation
not counted, one correction that restarts the clock, the answer types of the 2019
Regulations, and who may do what."""

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection

from yiciban.core.errors import Conflict, PermissionDenied, ValidationFailed
from yiciban.openness import selectors, services
from yiciban.openness.models import AnswerType, DisclosureRequest, DisclosureStatus

from .conftest import notifications

PERSON_ID = "430623199001011237"
PHONE = "13807301234"


def _at(day: str):
    return time_machine.travel(dt.datetime.fromisoformat(f"{day}T10:00:00+08:00"), tick=False)


def _file(place, day="2025-09-26", **extra) -> services.DisclosureFiled:
    fields = {
        "region": place.county,
        "requester_category": "natural_person",
        "requester_name": "张三",
        "id_number": PERSON_ID,
        "phone": PHONE,
        "description": "华容县2021年城乡低保资金发放明细",
        "delivery_method": "email",
        "email": "zhangsan@example.com",
    }
    fields.update(extra)
    with _at(day):
        return services.disclosure_request_file(**fields)


def _due(request, day):
    request = DisclosureRequest.objects.get(pk=request.pk)
    return selectors.disclosure_deadline(request, dt.date.fromisoformat(day))


def test_online_filing_counts_from_the_day_of_filing_across_national_day(place):
    filed = _file(place, "2025-09-26")
    request = filed.request
    assert request.received_on == dt.date(2025, 9, 26)
    assert request.number.startswith("YSQ4306232025")
    assert request.id_number_masked == "430623********1237"
    assert PERSON_ID not in request.id_number_encrypted
    # 国庆中秋 2025: 10-01..10-08 off, 09-28 and 10-11 are make-up working days
    deadline = _due(request, "2025-09-26")
    assert deadline.due == dt.date(2025, 10, 30)
    assert deadline.status == "normal"
    assert selectors.query_code_matches(request, filed.query_code)
    ack = notifications("openness.disclosure_received").get()
    assert request.number in ack.body and "2025-10-30" in ack.body
    assert set(ack.outbox_messages.values_list("channel", flat=True)) == {"sms", "email"}


def test_overdue_is_shown_after_the_due_date(place):
    request = _file(place, "2025-09-26").request
    assert _due(request, "2025-10-31").status == "overdue"
    assert _due(request, "2025-10-28").status == "warning"


def test_extension_once_by_office_head_with_notice(place):
    request = _file(place).request
    with _at("2025-10-20"):
        with pytest.raises(PermissionDenied):
            services.disclosure_request_extend(
                actor=place.people.county_editor, request=request, days=10, reason="需调取档案"
            )
        with pytest.raises(ValidationFailed) as error:
            services.disclosure_request_extend(
                actor=place.people.service_admin, request=request, days=21, reason="需调取档案"
            )
        assert error.value.errors[0].field == "days"
        extended = services.disclosure_request_extend(
            actor=place.people.service_admin, request=request, days=20, reason="需调取历年档案"
        )
        assert extended.extension_approved_by == place.people.service_admin
        with pytest.raises(Conflict) as error:
            services.disclosure_request_extend(
                actor=place.people.supervisor, request=request, days=1, reason="再延"
            )
        assert error.value.code == "extension_used"
    assert _due(request, "2025-10-20").due == dt.date(2025, 11, 27)
    notice = notifications("openness.disclosure_extended").get()
    assert "2025-11-27" in notice.body


def test_extension_after_the_deadline_is_refused(place):
    request = _file(place).request
    with _at("2025-10-31"), pytest.raises(Conflict) as error:
        services.disclosure_request_extend(
            actor=place.people.supervisor, request=request, days=5, reason="迟到的延期"
        )
    assert error.value.code == "deadline_passed"


def test_third_party_consultation_does_not_count(place):
    request = _file(place, "2025-11-03").request  # Monday
    base_due = _due(request, "2025-11-03").due
    with _at("2025-11-05"):
        services.disclosure_consultation_start(
            actor=place.people.county_editor,
            request=request,
            party_kind="third_party",
            party_name="华容县某某农业合作社",
        )
    assert _due(request, "2025-11-06").status == "suspended"
    with _at("2025-11-11"):
        services.disclosure_consultation_end(actor=place.people.county_editor, request=request)
    # 11-05..11-11 inclusive holds five working days (Wed–Fri, Mon, Tue)
    after = _due(request, "2025-11-11").due
    assert after > base_due
    from yiciban.core.calendar import working_days_between

    assert working_days_between(base_due, after).days == 5


def test_correction_once_within_seven_days_restarts_the_clock(place):
    filed = _file(place, "2025-11-03")
    request = filed.request
    with _at("2025-11-05"):
        with pytest.raises(ValidationFailed):
            services.disclosure_request_ask_correction(
                actor=place.people.county_editor, request=request, items=[]
            )
        asked = services.disclosure_request_ask_correction(
            actor=place.people.county_editor,
            request=request,
            items=["请写明所需信息的年度", "请写明具体发放村组"],
            correction_days=10,
        )
    assert asked.status == DisclosureStatus.CORRECTION_REQUESTED
    assert _due(request, "2025-11-06").status == "waiting"
    assert "请写明所需信息的年度" in notifications("openness.disclosure_correction").get().body
    with _at("2025-11-10"):
        with pytest.raises(PermissionDenied):
            services.disclosure_request_correct(
                request=request, description="2021年章华镇低保发放明细", query_code="WRONG123"
            )
        corrected = services.disclosure_request_correct(
            request=request,
            description="2021年章华镇东街社区城乡低保资金发放明细",
            query_code=filed.query_code,
        )
    assert corrected.status == DisclosureStatus.RECEIVED
    assert corrected.clock_started_on == dt.date(2025, 11, 10)
    from yiciban.core.calendar import add_working_days

    assert _due(request, "2025-11-10").due == add_working_days(dt.date(2025, 11, 10), 20).due
    with _at("2025-11-11"), pytest.raises(Conflict) as error:
        services.disclosure_request_ask_correction(
            actor=place.people.county_editor, request=request, items=["再补一次"]
        )
    assert error.value.code == "correction_used"


def test_correction_must_be_asked_within_seven_working_days(place):
    request = _file(place, "2025-11-03").request
    with _at("2025-11-13"), pytest.raises(Conflict) as error:
        services.disclosure_request_ask_correction(
            actor=place.people.county_editor, request=request, items=["请写明年度"]
        )
    assert error.value.code == "correction_window_closed"


def test_no_correction_in_time_is_abandoned_and_counted_as_other(place):
    request = _file(place, "2025-11-03").request
    with _at("2025-11-04"):
        services.disclosure_request_ask_correction(
            actor=place.people.county_editor,
            request=request,
            items=["请写明年度"],
            correction_days=5,
        )
    with _at("2025-11-11"), pytest.raises(Conflict) as error:
        services.disclosure_request_abandon(actor=place.people.county_editor, request=request)
    assert error.value.code == "correction_not_overdue"
    with _at("2025-11-12"):
        abandoned = services.disclosure_request_abandon(
            actor=place.people.county_editor, request=request
        )
    assert abandoned.status == DisclosureStatus.ABANDONED
    assert (abandoned.answer_type, abandoned.answer_reason) == ("other", "overdue_correction")


@pytest.mark.parametrize(
    ("answer_type", "reason", "field", "rule"),
    [
        ("not_disclosed", "", "answer_reason", "choice"),
        ("not_disclosed", "not_held", "answer_reason", "choice"),
        ("disclosed", "state_secret", "answer_reason", "not_allowed"),
        ("other", "overdue_correction", "answer_reason", "use_abandon"),
        ("granted", "", "answer_type", "choice"),
    ],
)
def test_answer_type_and_reason_must_fit_the_regulations(place, answer_type, reason, field, rule):
    request = _file(place).request
    with _at("2025-10-09"), pytest.raises(ValidationFailed) as error:
        services.disclosure_request_answer(
            actor=place.people.county_editor,
            request=request,
            answer_type=answer_type,
            answer_reason=reason,
            answer_text="答复告知书",
        )
    assert (error.value.errors[0].field, error.value.errors[0].rule) == (field, rule)


def test_still_unclear_only_after_a_correction(place):
    request = _file(place).request
    with _at("2025-10-09"), pytest.raises(ValidationFailed) as error:
        services.disclosure_request_answer(
            actor=place.people.county_editor,
            request=request,
            answer_type="unable_to_provide",
            answer_reason="still_unclear",
            answer_text="补正后仍不明确",
        )
    assert error.value.errors[0].rule == "not_corrected"


def test_answer_on_time_and_late(place):
    on_time = _file(place).request
    with _at("2025-10-30"):
        answered = services.disclosure_request_answer(
            actor=place.people.county_editor,
            request=on_time,
            answer_type="partly_disclosed",
            answer_text="部分公开，涉及个人隐私的部分已作区分处理。",
        )
    assert answered.status == DisclosureStatus.ANSWERED and not answered.answered_late
    late = _file(place, "2025-09-26", requester_name="李四").request
    with _at("2025-10-31"):
        answered_late = services.disclosure_request_answer(
            actor=place.people.county_editor,
            request=late,
            answer_type="unable_to_provide",
            answer_reason="not_held",
            answer_text="经检索，本机关未制作或获取该信息。",
        )
    assert answered_late.answered_late
    with _at("2025-11-01"), pytest.raises(Conflict):
        services.disclosure_request_answer(
            actor=place.people.county_editor,
            request=late,
            answer_type="disclosed",
            answer_text="再答一次",
        )


def test_answer_closes_an_open_consultation(place):
    request = _file(place, "2025-11-03").request
    with _at("2025-11-04"):
        services.disclosure_consultation_start(
            actor=place.people.county_editor,
            request=request,
            party_kind="other_agency",
            party_name="华容县财政局",
        )
    with _at("2025-11-07"):
        services.disclosure_request_answer(
            actor=place.people.county_editor,
            request=request,
            answer_type="disclosed",
            answer_text="予以公开。",
        )
    assert request.consultations.get().ended_on == dt.date(2025, 11, 7)


def test_who_may_file_and_handle(place):
    with pytest.raises(ValidationFailed) as error:
        _file(place, region=place.village)
    assert error.value.errors[0].rule == "level"
    with pytest.raises(PermissionDenied):
        _file(place, channel="on_site", received_on=dt.date(2025, 9, 25))
    on_site = _file(
        place, actor=place.people.clerk, channel="on_site", received_on=dt.date(2025, 9, 25)
    ).request
    assert on_site.received_on == dt.date(2025, 9, 25)
    with _at("2025-10-09"):
        for outsider in (place.people.nobody, place.people.other_editor, place.people.market_admin):
            with pytest.raises(PermissionDenied):
                services.disclosure_request_answer(
                    actor=outsider, request=on_site, answer_type="disclosed", answer_text="x"
                )
    handled_by_market = _file(place, department=place.market).request
    with _at("2025-10-09"):
        services.disclosure_request_answer(
            actor=place.people.market_admin,
            request=handled_by_market,
            answer_type="disclosed",
            answer_text="予以公开",
        )


@pytest.mark.parametrize(
    ("extra", "field", "rule"),
    [
        ({"id_number": "430623199001011234"}, "id_number", "check_char"),
        ({"phone": "", "email": "", "address": ""}, "phone", "contact_required"),
        ({"description": "低保"}, "description", "length"),
        ({"delivery_method": "fax"}, "delivery_method", "choice"),
        (
            {"requester_category": "commercial_enterprise", "id_number": "91430623MA4L0000X0"},
            "id_number",
            None,
        ),
    ],
)
def test_bad_filing_input(place, extra, field, rule):
    with pytest.raises(ValidationFailed) as error:
        _file(place, **extra)
    assert error.value.errors[0].field == field
    if rule:
        assert error.value.errors[0].rule == rule


def test_organisation_files_with_its_uscc(place):
    uscc = place.market.uscc  # any valid code will do
    request = _file(
        place, requester_category="commercial_enterprise", requester_name="某公司", id_number=uscc
    ).request
    assert request.id_number_masked == uscc


@pytest.mark.django_db(transaction=True)
def test_concurrent_answers_exactly_one_wins(place):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent writers need PostgreSQL; SQLite serialises all writers")
    request = _file(place, "2025-11-03").request
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def answer(text):
        try:
            barrier.wait(timeout=30)
            with _at("2025-11-05"):
                services.disclosure_request_answer(
                    actor=place.people.county_editor,
                    request=request,
                    answer_type="disclosed",
                    answer_text=text,
                )
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=answer, args=(f"答复{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["conflict", "ok"]
    assert DisclosureRequest.objects.get(pk=request.pk).answer_type == AnswerType.DISCLOSED
