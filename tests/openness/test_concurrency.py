"""Concurrent transitions on one article: exactly one wins, the other gets a Conflict. Real
threads with their own connections need PostgreSQL (SQLite serialises every writer, which
the sequential tests in test_publishing.py cover)."""

import threading

import pytest
from django.db import connection

from yiciban.core.errors import Conflict
from yiciban.openness import services
from yiciban.openness.models import Article, ArticleStatus

from .conftest import column


@pytest.fixture
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent writers need PostgreSQL; SQLite serialises all writers")


def _race(*calls):
    barrier = threading.Barrier(len(calls))
    outcomes: dict[str, str] = {}

    def run(name, call):
        try:
            barrier.wait(timeout=30)
            call()
            outcomes[name] = "ok"
        except Conflict:
            outcomes[name] = "conflict"
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def _submitted(place):
    article = services.article_create(
        actor=place.people.county_editor, column=column(place.county), title="并发审核测试"
    )
    return services.article_submit(actor=place.people.county_editor, article=article)


@pytest.mark.django_db(transaction=True)
def test_approve_and_withdraw_at_once_exactly_one_wins(place, postgresql_only):
    article = _submitted(place)
    seen = article.version  # both people act on the article as their page showed it
    outcomes = _race(
        (
            "approve",
            lambda: services.article_approve(
                actor=place.people.supervisor, article=article, expected_version=seen
            ),
        ),
        (
            "withdraw",
            lambda: services.article_withdraw(
                actor=place.people.county_editor,
                article=article,
                reason="撤回重写",
                expected_version=seen,
            ),
        ),
    )
    assert sorted(outcomes.values()) == ["conflict", "ok"]
    status = Article.objects.get(pk=article.pk).status
    winner = next(name for name, outcome in outcomes.items() if outcome == "ok")
    assert (
        status == {"approve": ArticleStatus.PUBLISHED, "withdraw": ArticleStatus.WITHDRAWN}[winner]
    )


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_approving_at_once_publish_once(place, postgresql_only):
    article = _submitted(place)
    outcomes = _race(
        ("a", lambda: services.article_approve(actor=place.people.supervisor, article=article)),
        ("b", lambda: services.article_approve(actor=place.people.service_admin, article=article)),
    )
    assert sorted(outcomes.values()) == ["conflict", "ok"]
    from yiciban.core.models import AuditEvent

    assert (
        AuditEvent.objects.filter(
            action="openness.article_publish", object_id=str(article.pk)
        ).count()
        == 1
    )


@pytest.mark.django_db
def test_second_transition_on_a_changed_article_is_a_conflict(place):
    article = _submitted(place)
    seen = article.version
    services.article_withdraw(
        actor=place.people.county_editor, article=article, reason="撤回", expected_version=seen
    )
    # `article` is the caller's stale copy: the service re-reads under lock and refuses
    with pytest.raises(Conflict):
        services.article_approve(actor=place.people.supervisor, article=article)


@pytest.mark.django_db
def test_acting_on_an_old_version_is_a_conflict_even_when_the_state_allows_it(place):
    article = _submitted(place)
    seen = article.version
    services.article_approve(actor=place.people.supervisor, article=article)
    # withdrawing a published article is allowed, but not by someone who saw the draft
    with pytest.raises(Conflict) as error:
        services.article_withdraw(
            actor=place.people.county_editor, article=article, reason="撤回", expected_version=seen
        )
    assert error.value.code == "stale_version"
    fresh = services.article_withdraw(
        actor=place.people.county_editor,
        article=article,
        reason="撤回",
        expected_version=Article.objects.get(pk=article.pk).version,
    )
    assert fresh.status == ArticleStatus.WITHDRAWN
