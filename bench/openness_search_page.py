"""In-process cost of the openness portal search page: `GET /openness/search/?q=…` through
Django's test client (the whole middleware stack, the view, the template), on the database
DATABASE_URL names (prepared by `bench/openness_search_http.py --prepare`). Less noisy than
HTTP req/s on a shared machine: it measures the Python and database time of one page.

    export YICIBAN_INSTANCE_DIR=/tmp/inst-h5bench/http
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h5bench \\
        .venv/bin/python bench/openness_search_page.py --rounds 5 [--distinct] [--profile]

Without --distinct the 20 queries of bench/openness_search.py repeat (with the result
cache, every page after the first round is a hit); with --distinct each page is a query
not asked before in this process (pairs of vocabulary words), so the cache never hits.
Besides wall-clock latency it prints this process's CPU time per page (time.process_time:
Python and driver work, not the database server's), the steadier figure on a busy machine.
--cold empties the cache before every page (the 20 queries' cost without it). The cache is
cleared at the start; --hits keeps what the warm-up computed, so every page is a cache hit
(the cost of a hit alone, which the default's first round of misses blurs).
--profile prints cProfile's top functions (SORT=tottime to change)."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiciban.settings")

from openness_search import QUERIES, distinct_queries  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="passes over the 20 queries")
    parser.add_argument("--distinct", action="store_true", help="a new query every page")
    parser.add_argument(
        "--cold", action="store_true", help="empty the result cache before every page"
    )
    parser.add_argument(
        "--hits", action="store_true", help="keep the warm-up's results: every page a hit"
    )
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        raise SystemExit("set DATABASE_URL (and YICIBAN_INSTANCE_DIR) to the bench database")

    import django

    django.setup()
    from django.core.cache import cache
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    cache.clear()
    # warm up: jieba's dictionary, templates, URL resolvers, connection (then forget the
    # results, so the measured pages start cold)
    for query in QUERIES:
        assert client.get(f"/openness/search/?q={quote(query)}").status_code == 200
    if not args.hits:
        cache.clear()
    count = args.rounds * len(QUERIES)
    queries = distinct_queries(count) if args.distinct else QUERIES * args.rounds
    urls = [f"/openness/search/?q={quote(query)}" for query in queries]
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    timings = []
    cpu_started = time.process_time()
    for url in urls:
        if args.cold:
            cache.clear()
        t0 = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, url
    cpu_ms = (time.process_time() - cpu_started) * 1000 / len(urls)
    if profiler is not None:
        import pstats

        profiler.disable()
        pstats.Stats(profiler).sort_stats(os.environ.get("SORT", "cumulative")).print_stats(40)
    timings.sort()
    print(
        f"pages={len(timings)} {'distinct queries' if args.distinct else '20 queries repeated'}"
        f"{' cache emptied before each' if args.cold else ''}"
        f"{' all cache hits' if args.hits and not args.cold and not args.distinct else ''}"
        f" mean={statistics.mean(timings):.2f}ms median={statistics.median(timings):.2f}ms "
        f"p95={timings[int(len(timings) * 0.95) - 1]:.2f}ms cpu={cpu_ms:.2f}ms/page"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
