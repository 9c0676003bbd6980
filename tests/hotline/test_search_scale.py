"""What keeps search fast on a large knowledge base: document frequencies cached per process
(and forgotten on every index write), and words far more common than the query's most
specific word left out of the ranking."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yiciban.hotline import search, selectors, services


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
    monkeypatch.setattr(search, "COMMON_TERM_MIN_ENTRIES", 1)
    # 申请 is in every entry (idf ≈ 0.05), 低保 in one of ten (idf ≈ 2.0): only 低保 ranks
    results = selectors.knowledge_search(query="低保申请")
    assert [h.entry.pk for h in results.hits] == [corpus[0].pk]
    # alone, the common word still finds everything
    assert selectors.knowledge_search(query="申请").count == len(corpus)


def test_on_a_small_knowledge_base_every_word_counts(corpus):
    results = selectors.knowledge_search(query="低保申请")
    assert results.count == len(corpus)
    assert results.hits[0].entry.pk == corpus[0].pk
