"""Chinese full-text search shared by the apps: jieba tokens, synonyms as query-time concepts,
an inverted index kept in the database (a posting table per app) and Okapi BM25 ranked in
SQL, the same on SQLite and PostgreSQL.

An app plugs in with a `PostingTable` (its posting model, document model and statistics row:
the adapter) and a `Tokenizer` (its stopwords and words to keep whole); its services call
`SearchIndex.write` / `remove` / `rebuild` inside their transaction, its selectors call
`SearchIndex.search` with the visibility filter of the caller.

Why an index table and not SQLite FTS5 / PostgreSQL tsvector or rank_bm25: FTS5 and
tsvector need their own DDL, query syntax and ranking (FTS5's bm25() and PostgreSQL's
ts_rank disagree) and neither segments Chinese; rank_bm25 keeps the whole corpus in each
worker's memory and must be rebuilt on every change. The table is written in the same
transaction as the document, shared by every process, and one code path on both databases.

Scoring: BM25 with Lucene's non-negative idf, k1 = 1.2, b = 0.75. A posting's `weight` is
the document's field-weighted term frequency (an app counts a title word three times …),
`length` the document's weighted length. Each query word is a *concept*: the word and its
synonyms; a document's frequency for a concept is its best among the concept's words, the
concept's idf uses the largest document frequency among them.

What keeps a query fast on a large index (100,000 documents):
- document frequencies are cached per process, keyed by the corpus statistics;
- words in more than half the documents, or with an idf under 30 % of the query's most
  specific word's, are left out when the query has more specific words;
- a word with more than `cap` postings is read by *impact* (its BM25 term part, stored at
  write time) from the covering index, best `cap` first: documents that only match it
  further down cannot outscore those read (same word, lower term part), except through
  other words of the query, which are read in full or by impact too. When the filtered
  result would not fill the page asked for, the query is run again without the cap. With
  a cap, the total count is that of the candidates read (a lower bound)."""

from __future__ import annotations

import logging
import math
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import jieba
from django.conf import settings
from django.db import connection, models
from django.db.models import Count, F

jieba.setLogLevel(logging.WARNING)

K1 = 1.2
B = 0.75
# Impacts are stored as integers: the BM25 term part (0 … k1 + 1) × 1000.
IMPACT_SCALE = 1000
MAX_QUERY_CONCEPTS = 24
# Pruning of common words, on indexes of COMMON_TERM_MIN_DOCUMENTS documents or more.
COMMON_TERM_SHARE = 0.5
COMMON_TERM_MIN_DOCUMENTS = 1000
COMMON_TERM_IDF_RATIO = 0.3
# Postings read per query word before the rest is left to the impact order (see above).
DEFAULT_CAP = 1500


_FLOAT = "CAST(%s AS DOUBLE PRECISION)"


def bm25_idf(df: int, n: int) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


def bm25_term_part(weight: float, length: float, avg_length: float) -> float:
    return weight * (K1 + 1) / (weight + K1 * (1 - B + B * length / max(avg_length, 1.0)))


def impact(weight: int, length: int, avg_length: float) -> int:
    return round(bm25_term_part(weight, length, avg_length) * IMPACT_SCALE)


# --- tokens ---------------------------------------------------------------------------------


class Tokenizer:
    """jieba's search mode (`cut_for_search`: words and their shorter parts, so 华容县 also
    gives 华容) on NFKC-normalised, lower-cased text, stopwords and punctuation dropped.

    A private jieba.Tokenizer per instance keeps an app's added words out of the global jieba
    state other code may use. `words` are added at first use (with `word_freq`, or jieba's
    suggested frequency); `set_extra_words` keeps a changing set whole (synonyms), adding
    only words jieba does not know and removing only those it added. A lock guards the
    dictionary, which those changes mutate."""

    def __init__(
        self,
        *,
        stopwords: Iterable[str],
        max_term_length: int,
        words: Iterable[str] = (),
        word_freq: int | None = None,
    ) -> None:
        self.stopwords = frozenset(stopwords)
        self.max_term_length = max_term_length
        self._words = tuple(words)
        self._word_freq = word_freq
        self._lock = threading.RLock()
        self._jieba: jieba.Tokenizer | None = None
        self._added: set[str] = set()

    def _tokenizer(self) -> jieba.Tokenizer:
        with self._lock:
            if self._jieba is None:
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                for word in self._words:
                    tokenizer.add_word(word, freq=self._word_freq)
                self._jieba = tokenizer
            return self._jieba

    def set_extra_words(self, words: Iterable[str]) -> None:
        wanted = {w for w in words if len(w) > 1}
        with self._lock:
            tokenizer = self._tokenizer()
            for word in self._added - wanted:
                tokenizer.del_word(word)
            added = set(self._added & wanted)
            for word in wanted - added:
                if not tokenizer.FREQ.get(word):
                    tokenizer.add_word(word)
                    added.add(word)
            self._added = added

    def normalize(self, token: str) -> str | None:
        token = token.strip()
        if not token or token in self.stopwords:
            return None
        # Drop pure punctuation and whitespace; keep anything with a letter, digit or Han.
        if not any(unicodedata.category(ch)[0] in "LN" for ch in token):
            return None
        return token[: self.max_term_length]

    def tokens(self, text: str) -> list[str]:
        """Search tokens of a text in order (repeats kept)."""
        normalized = unicodedata.normalize("NFKC", text).lower()
        with self._lock:
            raw = list(self._tokenizer().cut_for_search(normalized))
        return [t for t in map(self.normalize, raw) if t is not None]

    def weighted_terms(self, fields: Iterable[tuple[str, int]]) -> Counter[str]:
        """Field-weighted term frequencies of a document: (text, weight) per field."""
        counts: Counter[str] = Counter()
        for text, weight in fields:
            for token in self.tokens(text):
                counts[token] += weight
        return counts


# --- synonyms and concepts ------------------------------------------------------------------


@dataclass(frozen=True)
class Concept:
    terms: tuple[str, ...]  # the query word first, then its synonyms


def synonym_map(groups: Iterable[Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """Each word of each group → (the word, the other words of its group, sorted)."""
    synonyms: dict[str, tuple[str, ...]] = {}
    for terms in groups:
        for term in terms:
            synonyms[term] = (term, *sorted(t for t in terms if t != term))
    return synonyms


def concepts(
    tokens: Iterable[str],
    synonyms: Mapping[str, tuple[str, ...]] | None = None,
    *,
    limit: int = MAX_QUERY_CONCEPTS,
) -> list[Concept]:
    """The query's words, each with its synonyms; a word already covered by an earlier
    concept (营业执照 after 执照, when they are synonyms) is not counted twice."""
    result: list[Concept] = []
    seen: set[str] = set()
    for token in tokens:
        if token in seen:
            continue
        terms = (synonyms or {}).get(token, (token,))
        seen.update(terms)
        result.append(Concept(terms=terms))
        if len(result) >= limit:
            break
    return result


# --- the index ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostingTable:
    """An app's adapter: where its postings, documents and statistics live.

    The posting model has a `term` field, a foreign key to the document (`document_field`),
    the weighted frequency (`weight_field`), the document's weighted length copied in
    (`length_field`) and `impact`, with a covering index (term, -impact, document, weight,
    length). The document model keeps its length in `document_length_field` (0 while not
    indexed). The statistics model has one row (pk=1) with `document_count` and
    `total_length`."""

    posting: type[models.Model]
    document_field: str
    weight_field: str
    length_field: str
    document: type[models.Model]
    document_length_field: str
    stats: type[models.Model]
    # Equal scores: newest document (highest id) first, or oldest.
    newest_first_on_ties: bool = False


@dataclass(frozen=True)
class Page:
    count: int
    hits: list[tuple[int, float]]  # (document id, score), best first
    concepts: list[Concept]


@dataclass(frozen=True)
class DocumentFilter:
    """SQL condition on the candidate documents; `{doc}` stands for the document id column.
    `empty=True` means nothing can match (an empty scope)."""

    sql: str = ""
    params: tuple[object, ...] = ()
    empty: bool = False


class _DocumentFrequencies:
    """Per-process cache of each term's document frequency, for one state of the corpus
    (document count, total length, and an app key such as a synonyms stamp): a change of
    these empties it, this process's index writes too, and it is re-read at least every
    `recheck` seconds (a write elsewhere that keeps count and length)."""

    MAX_TERMS = 50_000

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.corpus: tuple | None = None
        self.filled_at = -math.inf
        self.values: dict[str, int] = {}

    def clear(self) -> None:
        with self.lock:
            self.corpus = None
            self.values = {}

    def get(
        self, terms: Sequence[str], corpus: tuple, recheck: float, count: Callable
    ) -> dict[str, int]:
        now = time.monotonic()
        with self.lock:
            if (
                self.corpus != corpus
                or now - self.filled_at >= recheck
                or len(self.values) > self.MAX_TERMS
            ):
                self.corpus, self.filled_at, self.values = corpus, now, {}
            known = {t: self.values[t] for t in terms if t in self.values}
        missing = [t for t in terms if t not in known]
        if missing:
            counted = count(missing)
            fresh = {t: counted.get(t, 0) for t in missing}
            with self.lock:
                if self.corpus == corpus:
                    self.values.update(fresh)
            known.update(fresh)
        return known


class SearchIndex:
    REBUILD_SAMPLE = 1000

    def __init__(
        self, table: PostingTable, *, cap: int = DEFAULT_CAP, recheck_setting: str = ""
    ) -> None:
        self.table = table
        self.cap = cap
        self.recheck_setting = recheck_setting
        self._frequencies = _DocumentFrequencies()

    # statistics

    def stats(self) -> models.Model | None:
        return self.table.stats.objects.filter(pk=1).first()

    def _adjust_stats(self, *, documents: int, length: int) -> None:
        if not documents and not length:
            return
        self.table.stats.objects.get_or_create(pk=1)
        self.table.stats.objects.filter(pk=1).update(
            document_count=F("document_count") + documents,
            total_length=F("total_length") + length,
        )

    def _average_length(self) -> float:
        stats = self.stats()
        if stats is None or stats.document_count <= 0:
            return 0.0
        return stats.total_length / stats.document_count

    def forget_frequencies(self) -> None:
        self._frequencies.clear()

    # writing (inside the caller's transaction)

    def _postings(self, document_id: int, weights: Counter[str], length: int, avg: float):
        t = self.table
        avg = avg or float(length)
        for term, weight in weights.items():
            yield t.posting(
                **{
                    f"{t.document_field}_id": document_id,
                    "term": term,
                    t.weight_field: weight,
                    t.length_field: length,
                    "impact": impact(weight, length, avg),
                }
            )

    def write(self, document: models.Model, weights: Counter[str]) -> None:
        """(Re)write one document's postings and keep the statistics in step; an empty
        `weights` takes the document out of the index."""
        t = self.table
        length = sum(weights.values())
        old_length = getattr(document, t.document_length_field)
        self._frequencies.clear()
        t.posting.objects.filter(**{t.document_field: document.pk}).delete()
        if length:
            avg = self._average_length()
            t.posting.objects.bulk_create(self._postings(document.pk, weights, length, avg))
        self._adjust_stats(
            documents=(1 if length else 0) - (1 if old_length else 0), length=length - old_length
        )
        if old_length != length:
            t.document.objects.filter(pk=document.pk).update(**{t.document_length_field: length})
            setattr(document, t.document_length_field, length)

    def remove(self, document: models.Model) -> None:
        self.write(document, Counter())

    def rebuild(self, documents: Iterable[tuple[int, Counter[str]]]) -> int:
        """Rewrite the whole index from (document id, weights) pairs; returns the number of
        documents indexed. Impacts are computed with one average length for all postings:
        that of the whole corpus when it has up to REBUILD_SAMPLE documents, else that of
        the first REBUILD_SAMPLE (an ordering key, see the module's doc)."""
        t = self.table
        self._frequencies.clear()
        t.posting.objects.all().delete()
        t.document.objects.exclude(**{t.document_length_field: 0}).update(
            **{t.document_length_field: 0}
        )
        count = 0
        total = 0
        avg: float | None = None
        pending: list[tuple[int, Counter[str], int]] = []
        batch: list[models.Model] = []
        lengths: dict[int, list[int]] = {}

        def flush() -> None:
            nonlocal batch
            for document_id, weights, length in pending:
                batch.extend(self._postings(document_id, weights, length, avg or 1.0))
                if len(batch) >= 5000:
                    t.posting.objects.bulk_create(batch)
                    batch = []
            pending.clear()

        for document_id, weights in documents:
            length = sum(weights.values())
            if not length:
                continue
            count += 1
            total += length
            lengths.setdefault(length, []).append(document_id)
            pending.append((document_id, weights, length))
            if avg is None and count >= self.REBUILD_SAMPLE:
                avg = total / count
            if avg is not None:
                flush()
        if avg is None and count:
            avg = total / count
        flush()
        t.posting.objects.bulk_create(batch)
        for length, ids in lengths.items():
            for start in range(0, len(ids), 500):
                t.document.objects.filter(pk__in=ids[start : start + 500]).update(
                    **{t.document_length_field: length}
                )
        t.stats.objects.update_or_create(
            pk=1, defaults={"document_count": count, "total_length": total}
        )
        return count

    # ranking

    def _count_frequencies(self, terms: Sequence[str]) -> dict[str, int]:
        # Counting the document column, not id: it is in the covering index, so PostgreSQL
        # counts from the index alone.
        t = self.table
        return dict(
            t.posting.objects.filter(term__in=terms)
            .values("term")
            .annotate(n=Count(t.document_field))
            .values_list("term", "n")
        )

    def frequencies(self, terms: Sequence[str], corpus: tuple) -> dict[str, int]:
        recheck = settings.YICIBAN.get(self.recheck_setting, 5.0) if self.recheck_setting else 5.0
        return self._frequencies.get(terms, corpus, recheck, self._count_frequencies)

    def search(
        self,
        query_concepts: list[Concept],
        *,
        limit: int,
        offset: int = 0,
        where: DocumentFilter | None = None,
        stats: models.Model | None = None,
        corpus_key: object = None,
    ) -> Page:
        """Documents matching the concepts and `where`, best first."""
        if stats is None:
            stats = self.stats()
        if not query_concepts or stats is None or stats.document_count <= 0:
            return Page(0, [], query_concepts)
        where = where or DocumentFilter()
        if where.empty:
            return Page(0, [], query_concepts)
        n = stats.document_count
        avg_length = max(stats.total_length / n, 1.0)
        all_terms = sorted({t for c in query_concepts for t in c.terms})
        df = self.frequencies(all_terms, (n, stats.total_length, corpus_key))
        weighted = _weigh(query_concepts, df, n)
        if not weighted:
            return Page(0, [], query_concepts)
        run = dict(df=df, avg_length=avg_length, where=where, limit=limit, offset=offset)
        capped = any(df.get(term, 0) > self.cap for c, _idf in weighted for term in c.terms)
        if capped:
            count, hits = self._ranked(weighted, cap=self.cap, **run)
            if len(hits) == limit:
                return Page(count, hits, query_concepts)
        count, hits = self._ranked(weighted, cap=None, **run)
        return Page(count, hits, query_concepts)

    def _ranked(
        self,
        weighted: list[tuple[Concept, float]],
        *,
        df: Mapping[str, int],
        avg_length: float,
        where: DocumentFilter,
        limit: int,
        offset: int,
        cap: int | None,
    ) -> tuple[int, list[tuple[int, float]]]:
        t = self.table
        meta = t.posting._meta
        postings = meta.db_table
        doc = meta.get_field(t.document_field).column
        weight = meta.get_field(t.weight_field).column
        length = meta.get_field(t.length_field).column

        term_concept: dict[str, int] = {}
        idf_cases: list[str] = []
        idf_params: list[object] = []
        for index, (concept, idf) in enumerate(weighted):
            idf_cases.append(f"WHEN %s THEN {_FLOAT}")
            idf_params.extend([index, idf * (K1 + 1)])
            for term in concept.terms:
                # a term in two concepts counts for the first; absent terms cost a lookup
                if term not in term_concept and df.get(term):
                    term_concept[term] = index
        # One arm for the words read in full, one per word read by impact.
        select = (
            f"SELECT {doc} AS doc_id, term, {weight} AS weight, {length} AS length FROM {postings}"
        )
        full = [term for term in term_concept if cap is None or df[term] <= cap]
        arms: list[str] = []
        arm_params: list[object] = []
        if full:
            arms.append(f"{select} WHERE term IN ({', '.join(['%s'] * len(full))})")
            arm_params.extend(full)
        for number, term in enumerate(t for t in term_concept if t not in full):
            arms.append(
                f"SELECT * FROM ({select} WHERE term = %s ORDER BY impact DESC LIMIT %s) c{number}"
            )
            arm_params.extend([term, cap])
        # The BM25 term part over (k1 + 1), whose factor is folded into the idf weights:
        # weight / (weight + k1·(1 − b) + (k1·b / avgdl)·length), in double precision (a
        # bare 2.2 would be a NUMERIC on PostgreSQL, several times slower to sum).
        tf_part = f"m.weight / (m.weight + {_FLOAT} + {_FLOAT} * m.length)"
        tf_params = [K1 * (1 - B), K1 * B / avg_length]
        ctes = [f"matched AS ({' UNION ALL '.join(arms)})"]
        if len(term_concept) == len(weighted):
            # One word of each concept is in the index: no best-of-synonyms step needed.
            term_cases = " ".join(f"WHEN %s THEN {_FLOAT}" for _ in term_concept)
            term_idf = [
                v for term, i in term_concept.items() for v in (term, weighted[i][1] * (K1 + 1))
            ]
            scored = (
                f"SELECT m.doc_id AS doc_id, SUM(CASE m.term {term_cases} END * {tf_part}) "
                f"AS score FROM matched m GROUP BY m.doc_id"
            )
            params = [*arm_params, *term_idf, *tf_params]
        else:
            term_cases = " ".join("WHEN %s THEN %s" for _ in term_concept)
            term_index = [v for term, i in term_concept.items() for v in (term, i)]
            ctes.append(
                f"per_concept AS (SELECT m.doc_id AS doc_id, CASE m.term {term_cases} END AS "
                f"concept, MAX({tf_part}) AS tf_part FROM matched m GROUP BY m.doc_id, concept)"
            )
            scored = (
                f"SELECT pc.doc_id AS doc_id, SUM(CASE pc.concept {' '.join(idf_cases)} END "
                f"* pc.tf_part) AS score FROM per_concept pc GROUP BY pc.doc_id"
            )
            params = [*arm_params, *term_index, *tf_params, *idf_params]
        ctes.append(f"scored AS ({scored})")
        prefix = "WITH " + ", ".join(ctes) + " "
        condition = f"WHERE {where.sql.replace('{doc}', 's.doc_id')} " if where.sql else ""
        params.extend(where.params)
        order = "s.doc_id DESC" if t.newest_first_on_ties else "s.doc_id"
        sql = (
            f"{prefix}SELECT s.doc_id, s.score, COUNT(*) OVER () AS total FROM scored s "
            f"{condition}ORDER BY s.score DESC, {order} LIMIT %s OFFSET %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, limit, offset])
            rows = cursor.fetchall()
            if rows:
                total = int(rows[0][2])
            elif offset:
                cursor.execute(f"{prefix}SELECT COUNT(*) FROM scored s {condition}", params)
                total = int(cursor.fetchone()[0])
            else:
                total = 0
        return total, [(int(r[0]), float(r[1])) for r in rows]


def _weigh(
    query_concepts: list[Concept], df: Mapping[str, int], n: int
) -> list[tuple[Concept, float]]:
    """Each concept present in the index with its idf, common words pruned (see above)."""
    present: list[tuple[Concept, int]] = []
    for concept in query_concepts:
        concept_df = max((df.get(t, 0) for t in concept.terms), default=0)
        if concept_df:
            present.append((concept, concept_df))
    if not present:
        return []
    if n >= COMMON_TERM_MIN_DOCUMENTS:
        specific = [(c, d) for c, d in present if d / n <= COMMON_TERM_SHARE]
        if specific:
            present = specific
    weighted = [(c, bm25_idf(d, n)) for c, d in present]
    if n >= COMMON_TERM_MIN_DOCUMENTS:
        floor = COMMON_TERM_IDF_RATIO * max(idf for _c, idf in weighted)
        weighted = [(c, idf) for c, idf in weighted if idf >= floor]
    return weighted
