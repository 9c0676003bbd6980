"""Subscriptions: double opt-in by code or link, unsubscribe, and publication sending
through the notification outbox inside the publishing transaction."""

import datetime as dt
import re

import pytest
import time_machine
from django.utils import timezone

from yiciban.core.errors import Conflict, NotFound, ValidationFailed
from yiciban.notifications.models import OutboxMessage
from yiciban.openness import services
from yiciban.openness.models import Subscription, SubscriptionStatus

from .conftest import column, notifications, published_article

PHONE = "13907301234"


def _subscribe(place, address=PHONE, channel="sms", kinds=("policy",)):
    return services.subscription_request(
        region=place.county,
        columns=[column(place.county, kind) for kind in kinds],
        channel=channel,
        address=address,
    ).subscription


def _code_and_token():
    body = notifications("openness.subscription_confirm").last()
    code = re.search(r"确认码(\d{6})", body.body).group(1)
    token = body.link.rstrip("/").rsplit("/", 1)[-1]
    return code, token


def test_request_sends_a_code_and_stores_no_clear_address(place):
    subscription = _subscribe(place)
    assert subscription.status == SubscriptionStatus.PENDING
    assert PHONE not in subscription.address_encrypted
    assert subscription.address_masked == "139****1234"
    message = OutboxMessage.objects.get(notification__kind="openness.subscription_confirm")
    assert message.channel == "sms"
    assert message.destination_masked == "139****1234"


def test_nothing_is_sent_before_confirmation(place):
    _subscribe(place)
    published_article(place)
    assert not notifications("openness.publication").exists()


def test_confirm_by_code_then_publication_notifies_with_unsubscribe_link(place):
    subscription = _subscribe(place)
    code, _token = _code_and_token()
    confirmed = services.subscription_confirm(subscription_id=subscription.pk, code=code)
    assert confirmed.status == SubscriptionStatus.ACTIVE
    article = published_article(place, title="华容县2021年耕地地力保护补贴发放方案")
    (notice,) = notifications("openness.publication")
    assert "耕地地力保护补贴" in notice.subject
    assert notice.related_id == str(article.pk)
    assert notice.link == f"/openness/a/{article.pk}/"
    assert f"/openness/unsubscribe/{subscription.pk}/" in notice.body
    assert OutboxMessage.objects.filter(notification=notice, channel="sms").count() == 1


def test_publication_in_another_column_sends_nothing(place):
    subscription = _subscribe(place, kinds=("finance",))
    code, _token = _code_and_token()
    services.subscription_confirm(subscription_id=subscription.pk, code=code)
    published_article(place, column_kind="policy")
    assert not notifications("openness.publication").exists()


def test_confirm_by_link_and_email(place):
    _subscribe(place, address="Zhang.San@Example.com", channel="email")
    _code, token = _code_and_token()
    confirmed = services.subscription_confirm(token=token)
    assert confirmed.status == SubscriptionStatus.ACTIVE
    published_article(place)
    notice = notifications("openness.publication").get()
    assert OutboxMessage.objects.get(notification=notice).channel == "email"


def test_wrong_code_counts_attempts_and_locks_after_five(place):
    subscription = _subscribe(place)
    code, _token = _code_and_token()
    wrong = "000000" if code != "000000" else "111111"
    for _n in range(5):
        with pytest.raises(ValidationFailed):
            services.subscription_confirm(subscription_id=subscription.pk, code=wrong)
    subscription.refresh_from_db()
    assert subscription.code_attempts == 5
    with pytest.raises(Conflict) as error:
        services.subscription_confirm(subscription_id=subscription.pk, code=code)
    assert error.value.code == "too_many_attempts"


def test_confirmation_expires(place):
    subscription = _subscribe(place)
    code, _token = _code_and_token()
    with time_machine.travel(timezone.now() + dt.timedelta(hours=25)), pytest.raises(Conflict):
        services.subscription_confirm(subscription_id=subscription.pk, code=code)


def test_unsubscribe_by_signed_link(place):
    subscription = _subscribe(place)
    code, _token = _code_and_token()
    services.subscription_confirm(subscription_id=subscription.pk, code=code)
    with pytest.raises(NotFound):
        services.subscription_end(subscription_id=subscription.pk, signature="forged")
    signature = services.unsubscribe_signature(subscription.pk)
    ended = services.subscription_end(subscription_id=subscription.pk, signature=signature)
    assert ended.status == SubscriptionStatus.ENDED
    assert services.subscription_end(subscription_id=subscription.pk, signature=signature) == ended
    published_article(place)
    assert not notifications("openness.publication").exists()


def test_resubscribing_replaces_the_older_subscription(place):
    first = _subscribe(place, kinds=("policy",))
    code, _token = _code_and_token()
    services.subscription_confirm(subscription_id=first.pk, code=code)
    second = _subscribe(place, kinds=("policy", "finance"))
    code, _token = _code_and_token()
    services.subscription_confirm(subscription_id=second.pk, code=code)
    first.refresh_from_db()
    assert first.status == SubscriptionStatus.ENDED
    published_article(place)
    assert notifications("openness.publication").count() == 1


@pytest.mark.parametrize(
    ("channel", "address", "field", "rule"),
    [
        ("sms", "12345", "address", "mobile_format"),
        ("email", "not-an-address", "address", "email_format"),
        ("fax", "0730-1234567", "channel", "choice"),
    ],
)
def test_bad_subscription_input(place, channel, address, field, rule):
    with pytest.raises(ValidationFailed) as error:
        _subscribe(place, address=address, channel=channel)
    assert (error.value.errors[0].field, error.value.errors[0].rule) == (field, rule)


def test_column_of_another_region_is_refused(place):
    with pytest.raises(ValidationFailed) as error:
        services.subscription_request(
            region=place.county,
            columns=[column(place.township)],
            channel="sms",
            address=PHONE,
        )
    assert error.value.errors[0].rule == "outside_region"


def test_too_many_requests_for_one_address(place):
    for _n in range(5):
        _subscribe(place)
    with pytest.raises(Conflict) as error:
        _subscribe(place)
    assert error.value.code == "too_many_requests"
    assert Subscription.objects.count() == 5


def test_a_failed_publication_rolls_back_its_notices(place, monkeypatch):
    subscription = _subscribe(place)
    code, _token = _code_and_token()
    services.subscription_confirm(subscription_id=subscription.pk, code=code)

    def broken(*args, **kwargs):
        raise RuntimeError("audit store unavailable")

    article = services.article_create(
        actor=place.people.county_editor, column=column(place.county), title="测试回滚"
    )
    services.article_submit(actor=place.people.county_editor, article=article)
    real_record = services.audit.record

    def record(**kwargs):
        if kwargs["action"] == "openness.article_publish":
            broken()
        return real_record(**kwargs)

    monkeypatch.setattr(services.audit, "record", record)
    with pytest.raises(RuntimeError):
        services.article_approve(actor=place.people.supervisor, article=article)
    article.refresh_from_db()
    assert article.status == "submitted"
    assert not notifications("openness.publication").exists()
