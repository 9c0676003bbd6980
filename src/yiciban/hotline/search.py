"""Chinese search over the knowledge base: jieba segmentation, an inverted index kept in the
database (KnowledgePosting), Okapi BM25 ranking computed in SQL, synonyms applied at query
time.

Why an index table and not rank_bm25: rank_bm25 keeps the whole corpus in each process's
memory and must be rebuilt whenever an entry changes; with several web workers that means
stale or diverging results, and 100,000 entries held per worker. The table is written in the
same transaction as the entry (so a search never sees half an update), is shared by every
process, and is the same code on SQLite and PostgreSQL.

Scoring (BM25 with Lucene's non-negative idf; k1=1.2, b=0.75):
- each entry's text is weighted by field: question ×3, tags ×2, answer ×1 (a match in the
  question says more than a mention deep in an answer);
- each query word becomes a *concept*: the word and its synonyms. An entry's frequency for
  a concept is its best frequency among the concept's words (no double count when an entry
  says both 营业执照 and 执照), and the concept's idf uses the largest document frequency
  among its words (a colloquial word that entries never use, such as 营业证, gets the
  weight of the official word it stands for).

The tokenizer knows every synonym as one word, so 营业证 or 居民身份证 is never cut into
pieces; the synonym services reindex the entries a changed word appears in. Each process
reloads its synonyms when KnowledgeIndexStats.synonyms_stamp changes."""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import jieba
from django.conf import settings
from django.db import connection
from django.db.models import Count, F

from .models import (
    KnowledgeEntry,
    KnowledgeIndexStats,
    KnowledgePosting,
    KnowledgeStatus,
    SynonymTerm,
)

jieba.setLogLevel(logging.WARNING)

K1 = 1.2
B = 0.75
FIELD_WEIGHTS = {"question": 3, "tags": 2, "answer": 1}
MAX_TERM_LENGTH = 64
MAX_QUERY_CONCEPTS = 24
# On a large knowledge base, a query word found in more than this share of the entries
# (办理, 材料 …) is left out of the ranking when the query has more specific words: its idf
# is below log 2, a fraction of a specific word's, yet reading its postings would cost most
# of the query time.
COMMON_TERM_SHARE = 0.5
COMMON_TERM_MIN_ENTRIES = 1000
# Likewise a query word whose idf is under this share of the query's most specific word's
# (申请 in 4 entries of 10 beside 低保 in 1 of 40) is left out: it can add at most that share
# of one specific match to a score, and its tens of thousands of postings would cost more
# than everything else the query reads.
COMMON_TERM_IDF_RATIO = 0.3

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

_PUNCT_OR_SPACE = re.compile(r"^[\W_]+$", re.UNICODE)


@dataclass(frozen=True)
class Concept:
    terms: tuple[str, ...]  # the query word first, then its synonyms


@dataclass(frozen=True)
class RankedPage:
    count: int
    hits: list[tuple[int, float]]  # (entry id, score), best first
    concepts: list[Concept]


class _State:
    """Per-process tokenizer and synonym map, reloaded when the stamp in the database
    changes. A lock guards both: jieba's dictionary is mutated on reload."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.tokenizer: jieba.Tokenizer | None = None
        self.stamp: int | None = None
        self.synonyms: dict[str, tuple[str, ...]] = {}
        self.added_words: set[str] = set()

    def _tokenizer(self) -> jieba.Tokenizer:
        if self.tokenizer is None:
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            self.tokenizer = tokenizer
        return self.tokenizer

    def ensure(self, stamp: int, *, force: bool = False) -> None:
        with self.lock:
            if self.stamp == stamp and not force and self.tokenizer is not None:
                return
            self._load()
            self.stamp = stamp

    def invalidate(self) -> None:
        with self.lock:
            self.stamp = None

    def _load(self) -> None:
        tokenizer = self._tokenizer()
        groups: dict[int, list[str]] = {}
        for group_id, term in SynonymTerm.objects.values_list("group_id", "term"):
            groups.setdefault(group_id, []).append(term)
        synonyms: dict[str, tuple[str, ...]] = {}
        for terms in groups.values():
            for term in terms:
                synonyms[term] = (term, *sorted(t for t in terms if t != term))
        wanted = {t for t in synonyms if len(t) > 1}
        # Words are added only if jieba does not know them; removing what we added (and only
        # that) brings segmentation back to what a fresh process would do.
        for word in self.added_words - wanted:
            tokenizer.del_word(word)
        added = set(self.added_words & wanted)
        for word in wanted - added:
            if not tokenizer.FREQ.get(word):
                tokenizer.add_word(word)
                added.add(word)
        self.added_words = added
        self.synonyms = synonyms

    def cut(self, text: str) -> list[str]:
        with self.lock:
            return list(self._tokenizer().cut_for_search(text))


_state = _State()


class _DocumentFrequencies:
    """Per-process cache of each term's document frequency (the number of entries whose
    postings hold it). Counting them is most of a query's cost on a large knowledge base:
    a common word (身份证, 办理) has tens of thousands of postings to count.

    The cache belongs to one state of the corpus (document count, total length, synonyms
    stamp): any index write changing these empties it at once, and this process's own index
    writes empty it too. A write elsewhere that keeps count and length (an edit of the same
    length) is picked up within HOTLINE_DF_RECHECK_SECONDS; until then only the idf weights
    are that much out of date, never which entries match (that is read from the postings)."""

    MAX_TERMS = 50_000

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.corpus: tuple[int, int, int] | None = None
        self.filled_at = -math.inf
        self.values: dict[str, int] = {}

    def clear(self) -> None:
        with self.lock:
            self.corpus = None
            self.values = {}

    def get(self, terms: Sequence[str], corpus: tuple[int, int, int]) -> dict[str, int]:
        interval = settings.YICIBAN.get("HOTLINE_DF_RECHECK_SECONDS", 5.0)
        now = time.monotonic()
        with self.lock:
            if (
                self.corpus != corpus
                or now - self.filled_at >= interval
                or len(self.values) > self.MAX_TERMS
            ):
                self.corpus, self.filled_at, self.values = corpus, now, {}
            known = {t: self.values[t] for t in terms if t in self.values}
        missing = [t for t in terms if t not in known]
        if missing:
            # entry_id, not id: it is in the covering index, so PostgreSQL counts from the
            # index alone instead of visiting every posting row.
            counted = dict(
                KnowledgePosting.objects.filter(term__in=missing)
                .values("term")
                .annotate(n=Count("entry"))
                .values_list("term", "n")
            )
            fresh = {t: counted.get(t, 0) for t in missing}
            with self.lock:
                if self.corpus == corpus:
                    self.values.update(fresh)
            known.update(fresh)
        return known


_frequencies = _DocumentFrequencies()


def _stats() -> KnowledgeIndexStats | None:
    return KnowledgeIndexStats.objects.filter(pk=1).first()


def _stats_for_update() -> KnowledgeIndexStats:
    stats, _created = KnowledgeIndexStats.objects.get_or_create(pk=1)
    return stats


def ensure_current() -> KnowledgeIndexStats | None:
    """Bring this process's tokenizer and synonyms in line with the database; returns the
    corpus statistics read for it."""
    stats = _stats()
    _state.ensure(stats.synonyms_stamp if stats else 0)
    return stats


def reload_synonyms(stamp: int) -> None:
    """Called by the synonym services inside their transaction, after the change."""
    _state.ensure(stamp, force=True)


def forget_loaded_synonyms() -> None:
    """Make the next search reload (used when a synonym change may have rolled back)."""
    _state.invalidate()


def normalize(token: str) -> str | None:
    token = token.strip().lower()
    if not token or token in STOPWORDS or _PUNCT_OR_SPACE.match(token):
        return None
    return token[:MAX_TERM_LENGTH]


def tokens(text: str) -> list[str]:
    """Search tokens of a text in order (repeats kept), stopwords and punctuation dropped."""
    result = []
    for raw in _state.cut(text):
        token = normalize(raw)
        if token is not None:
            result.append(token)
    return result


def entry_term_weights(entry: KnowledgeEntry) -> Counter[str]:
    weights: Counter[str] = Counter()
    fields = {
        "question": entry.question,
        "tags": " ".join(str(t) for t in entry.tags or []),
        "answer": entry.answer,
    }
    for name, text in fields.items():
        for token in tokens(text):
            weights[token] += FIELD_WEIGHTS[name]
    return weights


def is_searchable(entry: KnowledgeEntry) -> bool:
    return entry.status == KnowledgeStatus.PUBLISHED


# --- writing the index (called by services, inside their transaction) ---------------------


def index_entry(entry: KnowledgeEntry) -> None:
    """(Re)write the postings of one entry and keep the corpus statistics in step."""
    ensure_current()
    if not is_searchable(entry):
        unindex_entry(entry)
        return
    weights = entry_term_weights(entry)
    length = sum(weights.values())
    old_length = entry.index_length
    _frequencies.clear()
    KnowledgePosting.objects.filter(entry=entry).delete()
    KnowledgePosting.objects.bulk_create(
        KnowledgePosting(term=term, entry=entry, weight=weight, entry_length=length)
        for term, weight in weights.items()
    )
    _adjust_stats(
        documents=(1 if length else 0) - (1 if old_length else 0),
        length=length - old_length,
    )
    if old_length != length:
        KnowledgeEntry.objects.filter(pk=entry.pk).update(index_length=length)
        entry.index_length = length


def unindex_entry(entry: KnowledgeEntry) -> None:
    old_length = entry.index_length
    _frequencies.clear()
    KnowledgePosting.objects.filter(entry=entry).delete()
    if old_length:
        _adjust_stats(documents=-1, length=-old_length)
        KnowledgeEntry.objects.filter(pk=entry.pk).update(index_length=0)
        entry.index_length = 0


def _adjust_stats(*, documents: int, length: int) -> None:
    if not documents and not length:
        return
    _stats_for_update()
    KnowledgeIndexStats.objects.filter(pk=1).update(
        document_count=F("document_count") + documents, total_length=F("total_length") + length
    )


def rebuild_index(entries: Iterable[KnowledgeEntry] | None = None) -> int:
    """Rewrite the whole index from the entries (after a bulk import, or to repair).
    Returns the number of entries indexed."""
    ensure_current()
    _frequencies.clear()
    KnowledgePosting.objects.all().delete()
    KnowledgeEntry.objects.exclude(index_length=0).update(index_length=0)
    documents = 0
    total = 0
    batch: list[KnowledgePosting] = []
    lengths: dict[int, int] = {}
    queryset = (
        entries
        if entries is not None
        else KnowledgeEntry.objects.filter(status=KnowledgeStatus.PUBLISHED).iterator()
    )
    for entry in queryset:
        if not is_searchable(entry):
            continue
        weights = entry_term_weights(entry)
        length = sum(weights.values())
        if not length:
            continue
        batch.extend(
            KnowledgePosting(term=t, entry_id=entry.pk, weight=w, entry_length=length)
            for t, w in weights.items()
        )
        lengths[entry.pk] = length
        documents += 1
        total += length
        if len(batch) >= 5000:
            KnowledgePosting.objects.bulk_create(batch)
            batch = []
    KnowledgePosting.objects.bulk_create(batch)
    _set_lengths(lengths)
    stats = _stats_for_update()
    KnowledgeIndexStats.objects.filter(pk=stats.pk).update(
        document_count=documents, total_length=total
    )
    return documents


def _set_lengths(lengths: dict[int, int]) -> None:
    by_length: dict[int, list[int]] = {}
    for entry_id, length in lengths.items():
        by_length.setdefault(length, []).append(entry_id)
    for length, ids in by_length.items():
        for start in range(0, len(ids), 500):
            KnowledgeEntry.objects.filter(pk__in=ids[start : start + 500]).update(
                index_length=length
            )


# --- ranking --------------------------------------------------------------------------------


def query_concepts(query: str) -> list[Concept]:
    """The query's words, each with its synonyms; a word already covered by an earlier
    concept (营业执照 after 执照, when they are synonyms) is not counted twice."""
    ensure_current()
    return _concepts(query)


def _concepts(query: str) -> list[Concept]:
    concepts: list[Concept] = []
    seen: set[str] = set()
    for token in tokens(query):
        if token in seen:
            continue
        terms = _state.synonyms.get(token, (token,))
        seen.update(terms)
        concepts.append(Concept(terms=terms))
        if len(concepts) >= MAX_QUERY_CONCEPTS:
            break
    return concepts


def bm25_idf(df: int, n: int) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


def rank(
    query: str,
    *,
    limit: int,
    offset: int = 0,
    today: dt.date,
    region_ids: Sequence[int] | None = None,
    department_id: int | None = None,
) -> RankedPage:
    """Published entries valid on `today` that match the query, best first."""
    stats = ensure_current()
    concepts = _concepts(query)
    if not concepts or stats is None or stats.document_count <= 0:
        return RankedPage(0, [], concepts)
    n = stats.document_count
    avg_length = max(stats.total_length / n, 1.0)
    all_terms = sorted({t for c in concepts for t in c.terms})
    df = _frequencies.get(all_terms, (n, stats.total_length, stats.synonyms_stamp))
    weighted: list[tuple[Concept, float]] = []
    for concept in concepts:
        concept_df = max((df.get(t, 0) for t in concept.terms), default=0)
        if concept_df:
            weighted.append((concept, concept_df))
    if not weighted:
        return RankedPage(0, [], concepts)
    if n >= COMMON_TERM_MIN_ENTRIES:
        specific = [(c, d) for c, d in weighted if d / n <= COMMON_TERM_SHARE]
        if specific:
            weighted = specific
    scored = [(c, bm25_idf(int(d), n)) for c, d in weighted]
    if n >= COMMON_TERM_MIN_ENTRIES:
        floor = COMMON_TERM_IDF_RATIO * max(idf for _c, idf in scored)
        scored = [(c, idf) for c, idf in scored if idf >= floor]
    return _run_ranking(
        scored,
        df=df,
        avg_length=avg_length,
        limit=limit,
        offset=offset,
        today=today,
        region_ids=region_ids,
        department_id=department_id,
        concepts=concepts,
    )


def _run_ranking(
    weighted: list[tuple[Concept, float]],
    *,
    df: dict[str, int],
    avg_length: float,
    limit: int,
    offset: int,
    today: dt.date,
    region_ids: Sequence[int] | None,
    department_id: int | None,
    concepts: list[Concept],
) -> RankedPage:
    postings = KnowledgePosting._meta.db_table
    entries = KnowledgeEntry._meta.db_table
    term_cases: list[str] = []
    term_params: list[object] = []
    terms: list[str] = []
    idf_cases: list[str] = []
    idf_params: list[object] = []
    for index, (concept, idf) in enumerate(weighted):
        idf_cases.append("WHEN %s THEN %s")
        idf_params.extend([index, idf])
        for term in concept.terms:
            if term in terms or not df.get(term):
                continue  # a term in two concepts counts for the first; absent terms cost
            terms.append(term)
            term_cases.append("WHEN %s THEN %s")
            term_params.extend([term, index])
    filters = [
        "(e.valid_from IS NULL OR e.valid_from <= %s)",
        "(e.valid_until IS NULL OR e.valid_until >= %s)",
    ]
    filter_params: list[object] = [today, today]
    if region_ids is not None:
        if not region_ids:
            return RankedPage(0, [], concepts)
        filters.append("e.region_id IN (" + ", ".join(["%s"] * len(region_ids)) + ")")
        filter_params.extend(region_ids)
    if department_id is not None:
        filters.append("e.department_id = %s")
        filter_params.append(department_id)
    in_terms = ", ".join(["%s"] * len(terms))
    # Postings are read from the covering index alone; the entries table is read only
    # after grouping, once per matching entry, for the validity, region and department.
    matched = (
        f"SELECT p.entry_id AS entry_id, CASE p.term {' '.join(term_cases)} END AS concept, "
        f"(p.weight * %s) / (p.weight + %s * (1.0 - %s + %s * p.entry_length / %s)) AS tf_part "
        f"FROM {postings} p WHERE p.term IN ({in_terms})"
    )
    matched_params = [*term_params, K1 + 1.0, K1, B, B, avg_length, *terms]
    per_concept = (
        "SELECT entry_id, concept, MAX(tf_part) AS tf_part FROM matched GROUP BY entry_id, concept"
    )
    scored = (
        f"SELECT pc.entry_id AS entry_id, "
        f"SUM(CASE pc.concept {' '.join(idf_cases)} END * pc.tf_part) AS score "
        f"FROM per_concept pc GROUP BY pc.entry_id"
    )
    prefix = f"WITH matched AS ({matched}), per_concept AS ({per_concept}), scored AS ({scored}) "
    # A scalar subquery, not a join: PostgreSQL keeps it as one primary-key lookup per
    # matching entry, where a join is planned as a hash join over a scan of every entry
    # (100 ms at 100,000 entries for a query matching 2,500).
    valid = f"(SELECT 1 FROM {entries} e WHERE e.id = s.entry_id AND {' AND '.join(filters)}) = 1"
    params = [*matched_params, *idf_params, *filter_params]
    sql = (
        f"{prefix}SELECT s.entry_id, s.score, COUNT(*) OVER () AS total FROM scored s "
        f"WHERE {valid} ORDER BY s.score DESC, s.entry_id LIMIT %s OFFSET %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit, offset])
        rows = cursor.fetchall()
        if rows:
            total = int(rows[0][2])
        elif offset:
            cursor.execute(f"{prefix}SELECT COUNT(*) FROM scored s WHERE {valid}", params)
            total = int(cursor.fetchone()[0])
        else:
            total = 0
    return RankedPage(total, [(int(r[0]), float(r[1])) for r in rows], concepts)
