"""The shared Chinese search (yiciban.core.search): tokens, synonyms as concepts, BM25 weights
and the pruning of common words. The SQL ranking over a posting table is tested through the
apps' adapters (tests/hotline/test_search_scale.py, tests/openness/test_search.py)."""

import math

import pytest

from yiciban.core import search
from yiciban.core.search import Concept, Tokenizer


@pytest.fixture
def tokenizer():
    return Tokenizer(stopwords={"的", "怎么"}, max_term_length=6)


def test_tokens_are_normalised_and_stopwords_and_punctuation_dropped(tokenizer):
    # full-width letters and digits (NFKC), upper case, punctuation, stopwords
    assert tokenizer.tokens("ＡＢＣ的１２３４５！？，。") == ["abc", "12345"]
    assert tokenizer.tokens("") == []
    assert tokenizer.tokens("   \n\t…！") == []
    assert tokenizer.tokens("😀😀") == []


def test_search_mode_gives_words_and_their_parts(tokenizer):
    assert {"营业", "执照", "营业执照"} <= set(tokenizer.tokens("营业执照怎么办"))


def test_overlong_tokens_are_cut(tokenizer):
    assert tokenizer.tokens("a" * 500) == ["a" * 6]


def test_extra_words_are_kept_whole_and_removed_again():
    tokenizer = Tokenizer(stopwords=(), max_term_length=64)
    before = tokenizer.tokens("小孩上户口")
    assert "上户口" not in before
    tokenizer.set_extra_words({"上户口", "执照"})  # 执照 is known to jieba: not added
    assert "上户口" in tokenizer.tokens("小孩上户口")
    tokenizer.set_extra_words(set())
    assert tokenizer.tokens("小孩上户口") == before


def test_words_of_one_tokenizer_do_not_leak_into_another():
    domain = Tokenizer(stopwords=(), max_term_length=64, words=["岳办岳好"], word_freq=20000)
    plain = Tokenizer(stopwords=(), max_term_length=64)
    assert "岳办岳好" in domain.tokens("岳办岳好华容站")
    assert "岳办岳好" not in plain.tokens("岳办岳好华容站")


def test_weighted_terms_count_each_field_with_its_weight(tokenizer):
    counts = tokenizer.weighted_terms([("低保", 3), ("低保 标准", 2), ("低保", 1)])
    assert counts["低保"] == 3 + 2 + 1
    assert counts["标准"] == 2
    assert tokenizer.weighted_terms([("", 3), ("！！", 1)]) == {}


def test_synonyms_become_concepts_without_double_counting():
    synonyms = search.synonym_map([["营业执照", "执照", "营业证"]])
    assert synonyms["执照"] == ("执照", "营业执照", "营业证")
    found = search.concepts(["执照", "营业执照", "补办", "补办"], synonyms)
    assert found == [Concept(("执照", "营业执照", "营业证")), Concept(("补办",))]
    assert search.concepts([], synonyms) == []


def test_a_query_keeps_at_most_the_concept_limit():
    assert len(search.concepts([f"词{i}" for i in range(100)], limit=5)) == 5
    assert len(search.concepts([f"词{i}" for i in range(100)])) == search.MAX_QUERY_CONCEPTS


def test_idf_is_never_negative_and_falls_with_frequency():
    n = 1000
    values = [search.bm25_idf(df, n) for df in (1, 10, 100, 500, 1000)]
    assert values == sorted(values, reverse=True)
    assert all(v > 0 for v in values)
    assert search.bm25_idf(1, 1) == pytest.approx(math.log(1 + 0.5 / 1.5))


def test_impact_rises_with_weight_and_falls_with_length():
    assert search.impact(3, 20, 20) > search.impact(1, 20, 20)
    assert search.impact(1, 10, 20) > search.impact(1, 80, 20)
    # bounded by (k1 + 1) × scale, and an empty average length does not divide by zero
    assert search.impact(10_000, 1, 0) <= (search.K1 + 1) * search.IMPACT_SCALE


def test_common_words_are_pruned_only_on_a_large_index():
    specific, common = Concept(("低保",)), Concept(("申请",))
    absent = Concept(("小吃",))
    df = {"低保": 10, "申请": 4000}
    small = search._weigh([specific, common, absent], df, n=999)
    assert [c for c, _idf in small] == [specific, common]
    large = search._weigh([specific, common, absent], df, n=10_000)
    assert [c for c, _idf in large] == [specific]
    # with no specific word, the common ones still rank
    only_common = search._weigh([common], df, n=10_000)
    assert [c for c, _idf in only_common] == [common]
    assert search._weigh([absent], df, n=10_000) == []
