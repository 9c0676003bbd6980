"""Chinese full-text search over articles: the adapter of openness to the shared search
(yiciban.core.search — jieba tokens, BM25 over a posting table). The tokens are text.py's
(its stopwords and domain words); the weights are title ×3, summary ×2, body ×1.

The index holds every article; the visibility filter (published, not withdrawn, within the
scope asked for) is applied at query time, so scheduled publication needs no re-indexing.
The collection statistics (document count, average length, document frequencies) are those
of the whole index, as Lucene does: a filter narrows the results, not the idf."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from yiciban.core import search as core

from .models import Article, SearchIndexStats, SearchPosting, new_search_revision
from .text import plain_text, query_terms, weighted_terms

TABLE = core.PostingTable(
    posting=SearchPosting,
    document_field="article",
    weight_field="tf",
    length_field="doc_length",
    document=Article,
    document_length_field="search_length",
    stats=SearchIndexStats,
    newest_first_on_ties=True,
)
index = core.SearchIndex(TABLE, recheck_setting="OPENNESS_DF_RECHECK_SECONDS")


def article_term_weights(article: Article):
    return weighted_terms(
        title=article.title, summary=article.summary, body_text=plain_text(article.body_html)
    )


def index_article(article: Article) -> None:
    """(Re)write the postings of one article; call inside the writing transaction."""
    index.write(article, article_term_weights(article))
    touch()


def rebuild_index() -> int:
    """Rewrite the whole index (after a bulk import or a restore)."""
    count = index.rebuild(
        (article.pk, article_term_weights(article)) for article in Article.objects.iterator()
    )
    touch()
    return count


def touch() -> None:
    """Give the index a new revision: what search may show has changed (an article written,
    published, withdrawn). Call inside the writing transaction; cached result pages of the
    old revision are no longer read (selectors.search_page_rows)."""
    if not SearchIndexStats.objects.filter(pk=1).update(revision=new_search_revision()):
        SearchIndexStats.objects.get_or_create(pk=1)  # a new row has a new revision


@dataclass(frozen=True)
class Hit:
    article: Article
    score: float


@dataclass(frozen=True)
class Ranked:
    count: int
    hits: list[Hit]
    terms: list[str]


def rank_ids(
    articles: QuerySet[Article],
    terms: list[str],
    *,
    limit: int,
    offset: int,
    stats: SearchIndexStats | None = None,
) -> core.Page:
    """BM25-ranked page of article ids of `articles` (already filtered to what may be shown)
    for the query terms (text.query_terms); `stats` when the caller has read them already."""
    visible, params = articles.order_by().values("pk").query.sql_with_params()
    return index.search(
        core.concepts(terms),
        limit=limit,
        offset=offset,
        where=core.DocumentFilter(sql=f"{{doc}} IN ({visible})", params=tuple(params)),
        stats=stats,
    )


def rank(articles: QuerySet[Article], query: str, *, limit: int, offset: int) -> Ranked:
    """BM25-ranked page of `articles` (already filtered to what may be shown) for `query`."""
    terms = query_terms(query)
    if not terms:
        return Ranked(count=0, hits=[], terms=[])
    page = rank_ids(articles, terms, limit=limit, offset=offset)
    # The page is already limited to visible articles: fetch it by key only, with what a
    # result shows (the interpreted policy is shown by id; the source is not shown).
    found = (
        Article.objects.select_related("column", "region")
        .defer("body_source")
        .in_bulk([article_id for article_id, _score in page.hits])
    )
    hits = [
        Hit(article=found[article_id], score=score)
        for article_id, score in page.hits
        if article_id in found
    ]
    return Ranked(count=page.count, hits=hits, terms=terms)
