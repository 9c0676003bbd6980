"""Chinese search: jieba tokens and BM25 ranking over published articles only, the same on
SQLite and PostgreSQL."""

import pytest

from yiciban.core.errors import ValidationFailed
from yiciban.openness import selectors, services
from yiciban.openness.text import query_terms, tokens

from .conftest import column, published_article


@pytest.fixture
def corpus(place):
    published_article(
        place,
        title="华容县2021年耕地地力保护补贴发放公示",
        column_kind="livelihood_funds",
        body="各乡镇耕地地力保护补贴资金已发放到户，补贴标准为每亩105元。",
    )
    published_article(
        place,
        title="关于开展复工复产政策兑现的通知",
        column_kind="six_stabilities",
        body="为落实六稳六保，县政府出台复工复产十条措施，企业可在线一键申报。",
    )
    published_article(
        place,
        region=place.township,
        title="章华镇2021年财政预决算公开",
        column_kind="budget_accounts",
        body="章华镇一般公共预算收入完成情况。",
    )
    published_article(
        place,
        title="华容县政府采购中标公告",
        column_kind="procurement",
        body="本项目为农村公路养护采购，中标单位为某某公司。",
    )
    draft = services.article_create(
        actor=place.people.county_editor,
        column=column(place.county, "livelihood_funds"),
        title="未发布的补贴草稿",
        body="补贴补贴补贴",
    )
    return draft


def test_tokens_keep_words_and_their_parts():
    assert {"华容县", "华容", "补贴", "预决算"} <= set(tokens("华容县的补贴和预决算"))
    assert "的" not in tokens("华容县的补贴")
    assert query_terms("补贴 补贴！") == ["补贴"]


def test_search_finds_the_subsidy_notice_first(corpus):
    page = selectors.articles_search("耕地补贴怎么发放")
    assert page.count >= 1
    assert page.results[0].article.title == "华容县2021年耕地地力保护补贴发放公示"
    assert "补贴" in page.results[0].excerpt


def test_unpublished_articles_are_never_found(corpus):
    titles = [r.article.title for r in selectors.articles_search("补贴").results]
    assert "未发布的补贴草稿" not in titles


def test_search_by_domain_words(corpus):
    assert selectors.articles_search("六稳六保").results[0].article.title == (
        "关于开展复工复产政策兑现的通知"
    )
    assert selectors.articles_search("预决算").results[0].article.title == (
        "章华镇2021年财政预决算公开"
    )


def test_search_within_a_region_and_column(corpus, place):
    township_only = selectors.articles_search("2021", region=place.township)
    assert [r.article.title for r in township_only.results] == ["章华镇2021年财政预决算公开"]
    procurement = selectors.articles_search("华容县", column_kind="procurement")
    assert [r.article.title for r in procurement.results] == ["华容县政府采购中标公告"]


def test_ranking_prefers_more_matching_terms(corpus):
    results = selectors.articles_search("华容县 补贴 发放").results
    assert results[0].article.title.startswith("华容县2021年耕地地力保护补贴")
    assert results[0].score > results[-1].score


def test_withdrawn_articles_leave_the_results(corpus, place):
    article = selectors.articles_search("中标公告").results[0].article
    services.article_withdraw(actor=place.people.county_editor, article=article, reason="更正")
    assert selectors.articles_search("中标公告").count == 0


def test_empty_or_stopword_query_finds_nothing(corpus):
    assert selectors.articles_search("的").count == 0
    with pytest.raises(ValidationFailed):
        selectors.articles_search("长" * 101)


def test_editing_reindexes(place):
    article = services.article_create(
        actor=place.people.county_editor, column=column(place.county), title="防汛通知"
    )
    services.article_update(actor=place.people.county_editor, article=article, title="抗旱通知")
    services.article_submit(actor=place.people.county_editor, article=article)
    services.article_approve(actor=place.people.supervisor, article=article)
    assert selectors.articles_search("抗旱").count == 1
    assert selectors.articles_search("防汛").count == 0


def test_index_statistics_stay_in_step_and_a_rebuild_gives_the_same_ranking(corpus, place):
    from django.db.models import Count, Sum

    from yiciban.openness import search
    from yiciban.openness.models import Article, SearchIndexStats, SearchPosting

    def state():
        stats = SearchIndexStats.objects.get(pk=1)
        indexed = Article.objects.filter(search_length__gt=0).aggregate(
            n=Count("pk"), total=Sum("search_length")
        )
        assert (stats.document_count, stats.total_length) == (indexed["n"], indexed["total"])
        page = selectors.articles_search("华容县 补贴 发放")
        return stats.document_count, [(r.article.pk, round(r.score, 6)) for r in page.results]

    draft = corpus
    services.article_update(actor=place.people.county_editor, article=draft, body="补贴" * 50)
    before = state()
    postings = SearchPosting.objects.count()
    assert search.rebuild_index() == before[0]
    assert SearchPosting.objects.count() == postings
    assert state() == before
