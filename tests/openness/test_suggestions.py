"""The suggestion box (意见箱): per service point and online, answered by the responsible
office within a configurable number of working days, published only with consent."""

import datetime as dt

import pytest
import time_machine

from yiciban.core.errors import Conflict, PermissionDenied, ValidationFailed
from yiciban.openness import selectors, services
from yiciban.openness.models import SuggestionStatus

from .conftest import notifications


def _at(day):
    return time_machine.travel(dt.datetime.fromisoformat(f"{day}T10:00:00+08:00"), tick=False)


def _box(place, day="2025-11-03", **extra):
    fields = {
        "content": "建议便民服务站周六也开放半天。",
        "service_point": place.station,
        "channel": "box",
        "contact": "13907305678",
        "publish_consent": True,
    }
    fields.update(extra)
    with _at(day):
        return services.suggestion_submit(**fields)


def test_box_suggestion_takes_the_points_region_and_the_set_limit(place, settings):
    settings.YICIBAN = {**settings.YICIBAN, "OPENNESS_SUGGESTION_ANSWER_DAYS": 5}
    suggestion = _box(place)
    assert suggestion.region == place.village
    assert suggestion.answer_limit_days == 5
    assert suggestion.contact_masked == "139****5678"
    assert suggestion.number.startswith("YJ4306232025")
    deadline = selectors.suggestion_deadline(suggestion, dt.date(2025, 11, 3))
    assert deadline.due == dt.date(2025, 11, 10)


def test_answer_by_the_responsible_office_and_publication_with_consent(place):
    suggestion = _box(place, department=place.market)
    with _at("2025-11-05"):
        with pytest.raises(PermissionDenied):
            services.suggestion_answer(
                actor=place.people.other_market_admin, suggestion=suggestion, answer_text="收到"
            )
        answered = services.suggestion_answer(
            actor=place.people.market_admin,
            suggestion=suggestion,
            answer_text="已协调东街社区自下月起周六上午开放。",
        )
    assert answered.status == SuggestionStatus.ANSWERED and not answered.answered_late
    assert list(selectors.suggestions_published(point=place.station)) == [answered]
    notice = notifications("openness.suggestion_answered").get()
    assert notice.outbox_messages.get().channel == "sms"
    with pytest.raises(Conflict):
        services.suggestion_answer(
            actor=place.people.market_admin, suggestion=suggestion, answer_text="再答"
        )


def test_answer_without_consent_stays_unpublished(place):
    suggestion = _box(place, publish_consent=False, contact="")
    with _at("2025-11-05"):
        services.suggestion_answer(
            actor=place.people.village_editor, suggestion=suggestion, answer_text="感谢建议。"
        )
    assert not selectors.suggestions_published(region=place.county).exists()


def test_late_answer_is_flagged(place):
    suggestion = _box(place)
    with _at("2025-11-28"):
        answered = services.suggestion_answer(
            actor=place.people.county_editor, suggestion=suggestion, answer_text="迟到的答复"
        )
    assert answered.answered_late


def test_assign_within_reach_only(place):
    suggestion = _box(place)
    with pytest.raises(ValidationFailed) as error:
        services.suggestion_assign(
            actor=place.people.county_editor, suggestion=suggestion, department=place.other_market
        )
    assert error.value.errors[0].rule == "outside_region"
    with pytest.raises(PermissionDenied):
        services.suggestion_assign(
            actor=place.people.nobody, suggestion=suggestion, department=place.market
        )
    assigned = services.suggestion_assign(
        actor=place.people.county_editor, suggestion=suggestion, department=place.market
    )
    assert assigned.department == place.market


@pytest.mark.parametrize(
    ("extra", "field", "rule"),
    [
        ({"content": "短"}, "content", "length"),
        ({"service_point": None}, "service_point", "required"),
        ({"contact": "12"}, "contact", "phone_format"),
        ({"contact": "a@b"}, "contact", "email_format"),
    ],
)
def test_bad_suggestion_input(place, extra, field, rule):
    with pytest.raises(ValidationFailed) as error:
        _box(place, **extra)
    assert (error.value.errors[0].field, error.value.errors[0].rule) == (field, rule)


def test_online_suggestion_needs_a_region(place):
    with pytest.raises(ValidationFailed) as error:
        services.suggestion_submit(content="希望网站增加无障碍模式。", channel="online")
    assert error.value.errors[0].field == "region"
    online = services.suggestion_submit(
        content="希望网站增加无障碍模式。", channel="online", region=place.county
    )
    assert online.channel == "online" and online.service_point is None
