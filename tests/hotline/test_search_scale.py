"""What keeps search fast on a large knowledge base: document frequencies cached per process
(and forgotten on every index write), and words far more common than the query's most
specific word left out of the ranking."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yiciban.core import search as core_search
from yiciban.hotline import search, selectors, services
from yiciban.org.models import Role

from .conftest import _user


def _entry(operator, huarong, question, answer):
    return services.knowledge_entry_create(
        actor=operator, region=huarong, question=question, answer=answer, publish=True
    )


def _frequency_counts(queries) -> int:
    """Queries counting the postings of each term (the document frequencies)."""
    return sum(1 for q in queries if 'COUNT("hotline_knowledgeposting"."entry_id")' in q["sql"])


@pytest.fixture
def corpus(operator, huarong):
    entries = [_entry(operator, huarong, "低保怎么申请？", "到乡镇民政窗口申请。")]
    for index in range(9):
        entries.append(
            _entry(operator, huarong, f"第{index}号事项怎么申请？", "可在网上申请，也可窗口申请。")
        )
    return entries


def test_document_frequencies_are_counted_once_then_recounted_after_an_index_write(
    corpus, operator, huarong
):
    with CaptureQueriesContext(connection) as first:
        before = selectors.knowledge_search(query="低保申请")
    with CaptureQueriesContext(connection) as second:
        again = selectors.knowledge_search(query="低保申请")
    assert _frequency_counts(first.captured_queries) == 1
    assert _frequency_counts(second.captured_queries) == 0
    assert [(h.entry.pk, h.score) for h in again.hits] == [
        (h.entry.pk, h.score) for h in before.hits
    ]

    # a second entry about 低保 makes the word less specific: its idf, and so the score, drops
    _entry(operator, huarong, "低保标准是多少？", "按县里公布的标准执行。")
    with CaptureQueriesContext(connection) as third:
        after = selectors.knowledge_search(query="低保申请")
    assert _frequency_counts(third.captured_queries) == 1
    assert after.count == before.count + 1
    first_score = {h.entry.pk: h.score for h in after.hits}[corpus[0].pk]
    assert first_score < before.hits[0].score


def test_a_word_far_more_common_than_the_specific_one_is_left_out(corpus, monkeypatch):
    monkeypatch.setattr(core_search, "COMMON_TERM_MIN_DOCUMENTS", 1)
    # 申请 is in every entry (idf ≈ 0.05), 低保 in one of ten (idf ≈ 2.0): only 低保 ranks
    results = selectors.knowledge_search(query="低保申请")
    assert [h.entry.pk for h in results.hits] == [corpus[0].pk]
    # alone, the common word still finds everything
    assert selectors.knowledge_search(query="申请").count == len(corpus)


def test_on_a_small_knowledge_base_every_word_counts(corpus):
    results = selectors.knowledge_search(query="低保申请")
    assert results.count == len(corpus)
    assert results.hits[0].entry.pk == corpus[0].pk


def test_a_word_over_the_cap_is_read_best_first_with_the_same_top_results(
    corpus, operator, huarong, monkeypatch
):
    _entry(operator, huarong, "申请", "申请")  # the best match of 申请: short, in the question
    # Impacts are written with the average length of their time; a rebuild aligns them.
    search.rebuild_index()
    full = selectors.knowledge_search(query="申请", limit=3)
    monkeypatch.setattr(search.index, "cap", 4)
    with CaptureQueriesContext(connection) as queries:
        capped = selectors.knowledge_search(query="申请", limit=3)
    assert any("ORDER BY impact DESC LIMIT" in q["sql"] for q in queries.captured_queries)
    assert [h.score for h in capped.hits] == [h.score for h in full.hits]
    assert capped.hits[0].entry.question == "申请"
    # the count is that of the candidates read: a lower bound of the full count
    assert capped.count == 4 < full.count == len(corpus) + 1


def test_a_capped_read_that_cannot_fill_the_page_is_run_again_in_full(
    corpus, django_user_model, lanshan, monkeypatch
):
    other = _user(django_user_model, "lanshan_operator", **{Role.HOTLINE_OPERATOR: lanshan})
    far = _entry(other, lanshan, "蓝山县的事项", "说明很长的一段话，" * 20 + "末尾提到申请。")
    monkeypatch.setattr(search.index, "cap", 2)
    with CaptureQueriesContext(connection) as queries:
        results = selectors.knowledge_search(query="申请", region=lanshan)
    rankings = [q for q in queries.captured_queries if "WITH matched AS" in q["sql"]]
    assert len(rankings) == 2  # capped: nothing of 蓝山县 among the best two; then in full
    assert [h.entry.pk for h in results.hits] == [far.pk]
    assert results.count == 1
