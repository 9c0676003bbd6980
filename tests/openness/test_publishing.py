"""Publishing: drafts, review, scheduled publication and withdrawal, the two modes, who may
do what, and the audit trail."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from yiciban.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from yiciban.core.models import AuditEvent
from yiciban.openness import selectors, services
from yiciban.openness.models import ArticleKind, ArticleStatus, PublishingMode

from .conftest import column, published_article


def _draft(place, *, region=None, actor=None, column_kind="policy", **fields):
    return services.article_create(
        actor=actor or place.people.county_editor,
        column=column(region or place.county, column_kind),
        title=fields.pop("title", "华容县2021年惠农补贴发放公示"),
        body=fields.pop("body", "## 发放情况\n\n共发放耕地地力保护补贴**1200**万元。"),
        **fields,
    )


def test_draft_renders_markdown_and_is_not_public(place):
    article = _draft(place)
    assert article.status == ArticleStatus.DRAFT
    assert "<h2>发放情况</h2>" in article.body_html
    assert "<strong>1200</strong>" in article.body_html
    assert article.mode == PublishingMode.SELF
    with pytest.raises(NotFound):
        selectors.article_public_get(article.pk)


def test_full_review_flow_publishes_and_audits_every_step(place):
    people = place.people
    article = _draft(place, region=place.township, actor=people.township_editor)
    assert article.mode == PublishingMode.SELF
    services.article_submit(actor=people.township_editor, article=article)
    approved = services.article_approve(actor=people.supervisor, article=article)
    assert approved.status == ArticleStatus.PUBLISHED
    assert approved.published_at is not None
    assert selectors.article_public_get(article.pk) == article
    actions = list(
        AuditEvent.objects.filter(object_type="openness.article", object_id=str(article.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "openness.article_create",
        "openness.article_submit",
        "openness.article_approve",
        "openness.article_publish",
    ]


def test_county_editor_publishes_for_a_township_in_unified_mode(place):
    article = _draft(place, region=place.unified_village, actor=place.people.county_editor)
    assert article.mode == PublishingMode.UNIFIED


def test_township_editor_is_refused_when_the_township_is_under_unified_publishing(place):
    with pytest.raises(PermissionDenied) as error:
        _draft(place, region=place.unified_township, actor=place.people.unified_editor)
    assert error.value.code == "unified_publishing"


@pytest.mark.parametrize("who", ["township_editor", "village_editor", "other_editor", "nobody"])
def test_editor_outside_the_level_cannot_write_for_the_county(place, who):
    with pytest.raises(PermissionDenied):
        _draft(place, region=place.county, actor=getattr(place.people, who))


def test_village_editor_writes_for_own_village(place):
    article = _draft(
        place, region=place.village, actor=place.people.village_editor, column_kind="finance"
    )
    assert article.region == place.village
    assert article.mode == PublishingMode.SELF


def test_editor_cannot_approve_and_author_cannot_review_own_article(place):
    people = place.people
    article = _draft(place)
    services.article_submit(actor=people.county_editor, article=article)
    with pytest.raises(PermissionDenied):
        services.article_approve(actor=people.county_editor2, article=article)
    # the platform's superuser holds every role, but still may not review their own text
    people.supervisor.is_superuser = True
    people.supervisor.save()
    own = _draft(place, actor=people.supervisor)
    services.article_submit(actor=people.supervisor, article=own)
    with pytest.raises(PermissionDenied) as error:
        services.article_approve(actor=people.supervisor, article=own)
    assert error.value.code == "four_eyes"


def test_township_supervisor_reviews_village_but_not_county(place):
    people = place.people
    village_article = _draft(place, region=place.village, actor=people.township_editor)
    services.article_submit(actor=people.township_editor, article=village_article)
    services.article_approve(actor=people.township_supervisor, article=village_article)
    county_article = _draft(place)
    services.article_submit(actor=people.county_editor, article=county_article)
    with pytest.raises(PermissionDenied):
        services.article_approve(actor=people.township_supervisor, article=county_article)


def test_government_service_admin_may_review(place):
    article = _draft(place, region=place.township, actor=place.people.township_editor)
    services.article_submit(actor=place.people.township_editor, article=article)
    approved = services.article_approve(actor=place.people.service_admin, article=article)
    assert approved.status == ArticleStatus.PUBLISHED
    market = _draft(place, region=place.township, actor=place.people.township_editor)
    services.article_submit(actor=place.people.township_editor, article=market)
    with pytest.raises(PermissionDenied):
        services.article_approve(actor=place.people.market_admin, article=market)


def test_return_needs_a_comment_and_allows_resubmission(place):
    people = place.people
    article = _draft(place)
    services.article_submit(actor=people.county_editor, article=article)
    with pytest.raises(ValidationFailed) as error:
        services.article_return(actor=people.supervisor, article=article, comment=" ")
    assert error.value.errors[0].field == "comment"
    returned = services.article_return(
        actor=people.supervisor, article=article, comment="请补充补贴标准"
    )
    assert returned.status == ArticleStatus.RETURNED
    services.article_update(actor=people.county_editor, article=article, body="补贴标准：每亩100元")
    assert services.article_submit(actor=people.county_editor, article=article).status == (
        ArticleStatus.SUBMITTED
    )


def test_wrong_state_transitions_are_conflicts(place):
    people = place.people
    article = _draft(place)
    with pytest.raises(Conflict):
        services.article_approve(actor=people.supervisor, article=article)
    services.article_submit(actor=people.county_editor, article=article)
    with pytest.raises(Conflict):
        services.article_submit(actor=people.county_editor, article=article)
    with pytest.raises(Conflict) as error:
        services.article_update(actor=people.county_editor, article=article, title="改标题")
    assert error.value.code == "not_editable"


@pytest.mark.parametrize(
    ("fields", "field", "rule"),
    [
        ({"title": "  "}, "title", "required"),
        ({"title": "长" * 201}, "title", "max_length"),
        ({"body_format": "docx"}, "body_format", "choice"),
        ({"kind": ArticleKind.INTERPRETATION}, "interprets", "required"),
        ({"kind": "memo"}, "kind", "choice"),
    ],
)
def test_bad_article_input_names_field_and_rule(place, fields, field, rule):
    with pytest.raises(ValidationFailed) as error:
        _draft(place, **fields)
    assert (error.value.errors[0].field, error.value.errors[0].rule) == (field, rule)


def test_script_in_title_and_body_is_stored_safe(place):
    article = _draft(
        place,
        title="<script>alert(1)</script>通知",
        body_format="html",
        body='<p onclick="x()">正文<script>alert(2)</script><a href="javascript:alert(3)">链接</a>'
        '<img src="http://evil.example/x.png"><iframe src="http://evil.example"></iframe></p>',
    )
    assert "<script" not in article.body_html
    assert "onclick" not in article.body_html
    assert "javascript:" not in article.body_html
    assert "<img" not in article.body_html and "<iframe" not in article.body_html
    # the title is plain text: kept as typed, escaped wherever it is shown
    assert article.title == "<script>alert(1)</script>通知"


def test_markdown_raw_html_is_not_passed_through(place):
    article = _draft(place, body="正文<script>alert(1)</script>\n\n[x](javascript:alert(1))")
    assert "<script>" not in article.body_html
    assert 'href="javascript' not in article.body_html


def test_interpretation_links_to_its_policy(place):
    policy = published_article(place, title="华容县稳就业若干政策措施", kind=ArticleKind.POLICY)
    interpretation = services.article_create(
        actor=place.people.county_editor,
        column=column(place.county, "policy"),
        title="《华容县稳就业若干政策措施》政策解读",
        body="一图读懂。",
        kind=ArticleKind.INTERPRETATION,
        interprets=policy,
    )
    assert interpretation.interprets == policy
    services.article_submit(actor=place.people.county_editor, article=interpretation)
    services.article_approve(actor=place.people.supervisor, article=interpretation)
    assert list(selectors.interpretations_of(policy)) == [interpretation]
    notice = published_article(place, title="停电通知", column_kind="public_affairs")
    with pytest.raises(ValidationFailed) as error:
        services.article_create(
            actor=place.people.county_editor,
            column=column(place.county, "policy"),
            title="解读",
            kind=ArticleKind.INTERPRETATION,
            interprets=notice,
        )
    assert error.value.errors[0].rule == "policy_only"
    with pytest.raises(ValidationFailed) as error:
        services.article_create(
            actor=place.people.county_editor,
            column=column(place.county, "policy"),
            title="普通信息",
            interprets=policy,
        )
    assert error.value.errors[0].rule == "interpretation_only"


def test_scheduled_publication_appears_at_its_time_and_is_recorded_with_notice(place):
    people = place.people
    article = _draft(place)
    services.article_submit(actor=people.county_editor, article=article)
    start = timezone.now()
    publish_at = start + dt.timedelta(hours=2)
    approved = services.article_approve(
        actor=people.supervisor, article=article, publish_at=publish_at
    )
    assert approved.status == ArticleStatus.SCHEDULED
    assert not selectors.public_articles().filter(pk=article.pk).exists()
    assert services.articles_run_schedule().published == 0
    later = publish_at + dt.timedelta(minutes=1)
    assert selectors.public_articles(now=later).filter(pk=article.pk).exists()
    with time_machine.travel(later, tick=False):
        run = services.articles_run_schedule()
    assert run.published == 1
    article.refresh_from_db()
    assert article.status == ArticleStatus.PUBLISHED
    assert article.published_at == later


def test_approve_refuses_a_time_in_the_past_or_without_zone(place):
    article = _draft(place)
    services.article_submit(actor=place.people.county_editor, article=article)
    with pytest.raises(ValidationFailed) as error:
        services.article_approve(
            actor=place.people.supervisor,
            article=article,
            publish_at=timezone.now() - dt.timedelta(days=1),
        )
    assert error.value.errors[0].rule == "not_past"
    with pytest.raises(ValidationFailed) as error:
        services.article_approve(
            actor=place.people.supervisor, article=article, publish_at=dt.datetime(2030, 1, 1)
        )
    assert error.value.errors[0].rule == "timezone"


def test_withdrawal_now_and_scheduled(place):
    people = place.people
    now_article = published_article(place, title="立即撤回的信息")
    with pytest.raises(ValidationFailed):
        services.article_withdraw(actor=people.county_editor, article=now_article, reason="")
    withdrawn = services.article_withdraw(
        actor=people.county_editor, article=now_article, reason="信息有误"
    )
    assert withdrawn.status == ArticleStatus.WITHDRAWN
    assert not selectors.public_articles().filter(pk=now_article.pk).exists()
    with pytest.raises(Conflict):
        services.article_withdraw(actor=people.county_editor, article=now_article, reason="再撤")

    later_article = published_article(place, title="公示期七天的信息")
    at = timezone.now() + dt.timedelta(days=7)
    scheduled = services.article_withdraw(
        actor=people.supervisor, article=later_article, reason="公示期满", at=at
    )
    assert scheduled.status == ArticleStatus.WITHDRAWAL_SCHEDULED
    assert selectors.public_articles().filter(pk=later_article.pk).exists()
    assert not selectors.public_articles(now=at).filter(pk=later_article.pk).exists()
    with time_machine.travel(at + dt.timedelta(seconds=1), tick=False):
        assert services.articles_run_schedule().withdrawn == 1
    later_article.refresh_from_db()
    assert later_article.status == ArticleStatus.WITHDRAWN
    assert later_article.withdraw_reason == "公示期满"
    assert AuditEvent.objects.filter(
        action="openness.article_schedule_withdrawal", object_id=str(later_article.pk)
    ).exists()


def test_withdraw_is_refused_to_people_without_a_role_there(place):
    article = published_article(place)
    with pytest.raises(PermissionDenied):
        services.article_withdraw(actor=place.people.other_editor, article=article, reason="x")


def test_publishing_mode_is_set_by_the_county_for_townships_only(place):
    setting = services.publishing_mode_set(
        actor=place.people.county_editor, region=place.township, mode=PublishingMode.UNIFIED
    )
    assert setting.mode == PublishingMode.UNIFIED
    with pytest.raises(PermissionDenied):
        services.article_create(
            actor=place.people.township_editor, column=column(place.township), title="自主发布"
        )
    with pytest.raises(PermissionDenied):
        services.publishing_mode_set(
            actor=place.people.township_editor, region=place.township, mode=PublishingMode.SELF
        )
    with pytest.raises(ValidationFailed):
        services.publishing_mode_set(
            actor=place.people.county_editor, region=place.county, mode=PublishingMode.SELF
        )


def test_column_create_conflicts_with_existing(place):
    with pytest.raises(Conflict):
        services.column_create(actor=place.people.county_editor, region=place.county, kind="policy")
    with pytest.raises(ValidationFailed):
        services.column_create(actor=place.people.county_editor, region=place.county, kind="x")


def test_villages_get_the_five_basic_columns_and_others_all(place):
    assert set(selectors.columns_of(place.village).values_list("kind", flat=True)) == {
        "party_affairs", "public_affairs", "policy", "finance", "organisation"
    }  # fmt: skip
    assert selectors.columns_of(place.county).count() == 12


def test_schedule_command_records_due_publications(place):
    from io import StringIO

    from django.core.management import call_command

    article = _draft(place)
    services.article_submit(actor=place.people.county_editor, article=article)
    services.article_approve(
        actor=place.people.supervisor,
        article=article,
        publish_at=timezone.now() + dt.timedelta(minutes=1),
    )
    out = StringIO()
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=2), tick=False):
        call_command("openness_run_schedule", stdout=out)
    assert out.getvalue().strip() == "published=1 withdrawn=0"
    event = AuditEvent.objects.get(action="openness.article_publish", object_id=str(article.pk))
    assert event.actor is None and event.channel == "task"
