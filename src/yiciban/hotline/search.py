"""12345 knowledge search: the adapter of the hotline to the shared search
(yiciban.core.search — jieba tokens, synonyms as concepts, BM25 over a posting table).

What is the hotline's own: the fields and their weights (question ×3, tags ×2, answer ×1:
a match in the question says more than a mention deep in an answer), the stopwords (how
callers ask, not what about), the synonym table (SynonymGroup/SynonymTerm, applied at query
time) and the filter of a search (valid today, a region and those above it, a department).

The tokenizer knows every synonym as one word, so 营业证 or 居民身份证 is never cut into
pieces; the synonym services reindex the entries a changed word appears in. Each process
reloads its synonyms when KnowledgeIndexStats.synonyms_stamp changes."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Iterable, Sequence

from yiciban.core import search as core
from yiciban.core.search import Concept

from .models import (
    KnowledgeEntry,
    KnowledgeIndexStats,
    KnowledgePosting,
    KnowledgeStatus,
    SynonymTerm,
)

FIELD_WEIGHTS = {"question": 3, "tags": 2, "answer": 1}
MAX_TERM_LENGTH = 64

# Function words and question words: they say how a caller asks, not what about.
STOPWORDS = frozenset(
    """
    的 了 吗 呢 吧 啊 呀 么 嘛 哦 是 在 和 与 及 或 并 而 也 都 就 还 又 被 把 给 对 向 从 为
    我 你 他 她 它 我们 你们 他们 咱 咱们 自己 本人 这 那 这个 那个 这些 那些 这里 那里 哪
    哪个 哪些 哪里 哪儿 什么 怎么 怎么样 怎样 如何 为什么 多少 几 是否 是不是 能不能 可不可以
    可以 能 能否 会 要 想 想要 需要 请问 请 问 问一下 一下 咨询 一个 有 没有 有没有 吗？ 呢？
    一 个 些 点 去 来 到 上 下 中 后 前 时 时候 时间 现在 已经 之后 以后 之前 如果 但是 因为
    所以 然后 那么 这样 那样 该 应该 哪些 等 等等 之 其 其他 其它 还是
    """.split()
)

TABLE = core.PostingTable(
    posting=KnowledgePosting,
    document_field="entry",
    weight_field="weight",
    length_field="entry_length",
    document=KnowledgeEntry,
    document_length_field="index_length",
    stats=KnowledgeIndexStats,
)
index = core.SearchIndex(TABLE, recheck_setting="HOTLINE_DF_RECHECK_SECONDS")
tokenizer = core.Tokenizer(stopwords=STOPWORDS, max_term_length=MAX_TERM_LENGTH)


class _Synonyms:
    """This process's synonym map, reloaded when the stamp in the database changes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stamp: int | None = None
        self.map: dict[str, tuple[str, ...]] = {}

    def ensure(self, stamp: int, *, force: bool = False) -> None:
        with self.lock:
            if self.stamp == stamp and not force:
                return
            groups: dict[int, list[str]] = {}
            for group_id, term in SynonymTerm.objects.values_list("group_id", "term"):
                groups.setdefault(group_id, []).append(term)
            self.map = core.synonym_map(groups.values())
            tokenizer.set_extra_words(self.map)
            self.stamp = stamp

    def invalidate(self) -> None:
        with self.lock:
            self.stamp = None


_synonyms = _Synonyms()


def ensure_current() -> KnowledgeIndexStats | None:
    """Bring this process's tokenizer and synonyms in line with the database; returns the
    corpus statistics read for it."""
    stats = index.stats()
    _synonyms.ensure(stats.synonyms_stamp if stats else 0)
    return stats


def reload_synonyms(stamp: int) -> None:
    """Called by the synonym services inside their transaction, after the change."""
    _synonyms.ensure(stamp, force=True)


def forget_loaded_synonyms() -> None:
    """Make the next search reload (used when a synonym change may have rolled back)."""
    _synonyms.invalidate()


def tokens(text: str) -> list[str]:
    """Search tokens of a text in order (repeats kept), stopwords and punctuation dropped."""
    return tokenizer.tokens(text)


def entry_term_weights(entry: KnowledgeEntry) -> Counter[str]:
    return tokenizer.weighted_terms(
        [
            (entry.question, FIELD_WEIGHTS["question"]),
            (" ".join(str(t) for t in entry.tags or []), FIELD_WEIGHTS["tags"]),
            (entry.answer, FIELD_WEIGHTS["answer"]),
        ]
    )


def is_searchable(entry: KnowledgeEntry) -> bool:
    return entry.status == KnowledgeStatus.PUBLISHED


# --- writing the index (called by services, inside their transaction) ---------------------


def index_entry(entry: KnowledgeEntry) -> None:
    """(Re)write the postings of one entry and keep the corpus statistics in step."""
    ensure_current()
    index.write(entry, entry_term_weights(entry) if is_searchable(entry) else Counter())


def unindex_entry(entry: KnowledgeEntry) -> None:
    index.remove(entry)


def rebuild_index(entries: Iterable[KnowledgeEntry] | None = None) -> int:
    """Rewrite the whole index from the entries (after a bulk import, or to repair).
    Returns the number of entries indexed."""
    ensure_current()
    queryset = (
        entries
        if entries is not None
        else KnowledgeEntry.objects.filter(status=KnowledgeStatus.PUBLISHED).iterator()
    )
    return index.rebuild(
        (entry.pk, entry_term_weights(entry)) for entry in queryset if is_searchable(entry)
    )


# --- ranking --------------------------------------------------------------------------------


def query_concepts(query: str) -> list[Concept]:
    """The query's words, each with its synonyms."""
    ensure_current()
    return core.concepts(tokens(query), _synonyms.map)


def rank(
    query: str,
    *,
    limit: int,
    offset: int = 0,
    today: dt.date,
    region_ids: Sequence[int] | None = None,
    department_id: int | None = None,
) -> core.Page:
    """Published entries valid on `today` that match the query, best first."""
    stats = ensure_current()
    concepts = core.concepts(tokens(query), _synonyms.map)
    if region_ids is not None and not region_ids:
        return core.Page(0, [], concepts)
    filters = [
        "(e.valid_from IS NULL OR e.valid_from <= %s)",
        "(e.valid_until IS NULL OR e.valid_until >= %s)",
    ]
    params: list[object] = [today, today]
    if region_ids is not None:
        filters.append("e.region_id IN (" + ", ".join(["%s"] * len(region_ids)) + ")")
        params.extend(region_ids)
    if department_id is not None:
        filters.append("e.department_id = %s")
        params.append(department_id)
    # A scalar subquery, not a join: PostgreSQL keeps it as one lookup in the entries'
    # filter index (hotline_entry_filter, an index-only read) per matching entry, where a
    # join is planned as a hash join over a scan of every entry.
    where = core.DocumentFilter(
        sql=f"(SELECT 1 FROM {KnowledgeEntry._meta.db_table} e WHERE e.id = {{doc}} AND "
        + " AND ".join(filters)
        + ") = 1",
        params=tuple(params),
    )
    return index.search(
        concepts,
        limit=limit,
        offset=offset,
        where=where,
        stats=stats,
        corpus_key=stats.synonyms_stamp if stats else 0,
    )
