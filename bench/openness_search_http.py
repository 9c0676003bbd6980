"""HTTP benchmark of the openness portal search page: `GET /openness/search/?q=…` (BM25 over
the article index, 20 results with excerpts, the full page rendered), served by
`yiciban serve` (gunicorn), with `GET /healthz` (one `SELECT 1`, the lightest Django view
that touches the database) measured in the same run as the floor.

    # PostgreSQL database of its own; --prepare migrates it and fills it once
    export YICIBAN_INSTANCE_DIR=/tmp/inst-h5bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h5bench \\
        .venv/bin/python bench/openness_search_http.py --prepare --articles 3000 \\
        --workers 2 --concurrency 8 32 --duration 20

--prepare runs the migrations and collectstatic (as `yiciban setup`) and, when the database
holds no article yet, generates --articles published articles over a county's 43 regions
(bench/openness_search.py's generator, indexed with the services' code). The server is
started on a loopback port, checked with one request that must find the subsidy notices,
warmed up, then loaded with `wrk` on the same machine (it competes with the server for the
CPU): each connection cycles through the 20 queries of bench/openness_search.py. The page
keeps a result cache per process, so after the first round those 20 are cache hits (the
steady state of repeated queries). --distinct adds a cold row per concurrency level: every
request a query of two or three vocabulary words not asked before in the run (each wrk run
gets its own slice of bench/openness_search.py's distinct_queries), so the cache never
hits. Reports requests/s, median, 90th and 99th percentile latency and the search/healthz
ratio per concurrency level, with the machine's CPU."""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlsplit

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "src"))

import catalog_http  # noqa: E402  (sibling bench script: server and wrk helpers)
from catalog_http import (  # noqa: E402
    HEALTH_PATH,
    machine,
    run_wrk,
    start_server,
    stop_server,
    wait_until_up,
)
from openness_search import QUERIES, distinct_queries, populate  # noqa: E402

SEARCH_PATH = "/openness/search/"
PATHS = [f"{SEARCH_PATH}?q={quote(query)}" for query in QUERIES]
# Each wrk thread walks the list from its own starting point, a stride of the thread count
# apart, so with distinct paths no two requests of a run ask the same query.
CYCLE = """
local paths = {%(paths)s}
local thread_count = 0
function setup(thread)
  thread:set("thread_id", thread_count)
  thread_count = thread_count + 1
end
local counter = 0
request = function()
  local index = (counter * %(threads)d + (thread_id or 0)) %% #paths + 1
  counter = counter + 1
  return wrk.format("GET", paths[index])
end
"""


def prepare(articles: int, seed: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiciban.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from yiciban.openness.models import Article

    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    if not Article.objects.exists():
        seconds = populate(articles, seed)
        print(f"prepared: {articles} articles in {seconds:.1f} s")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    connection.close()


def check_search(base: str) -> int:
    """The measured page does what it claims: 200, and the subsidy notices are found."""
    with urllib.request.urlopen(base + PATHS[0], timeout=10) as response:
        page = response.read()
    if response.status != 200 or "耕地地力保护补贴".encode() not in page:
        raise SystemExit("the search page did not find the subsidy notices")
    return len(page)


def run_search(
    base: str, concurrency: int, duration: int, threads: int, paths: list[str] = PATHS
) -> dict:
    """catalog_http.run_wrk with the query cycle put before its reporting script."""
    listed = ", ".join(json.dumps(p) for p in paths)
    threads_used = min(threads, concurrency)
    cycle = (CYCLE % {"paths": listed, "threads": threads_used}).replace("%", "%%")
    original = catalog_http.WRK_SCRIPT
    catalog_http.WRK_SCRIPT = cycle + original
    try:
        return run_wrk(base, SEARCH_PATH, "GET", concurrency, duration, threads)
    finally:
        catalog_http.WRK_SCRIPT = original


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prepare", action="store_true")
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--port", type=int, default=8771)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--duration", type=int, default=20, help="seconds per measurement")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per URL")
    parser.add_argument("--load-threads", type=int, default=2, help="wrk threads")
    parser.add_argument(
        "--distinct",
        action="store_true",
        help="also a cold row per concurrency: every request a query not asked before",
    )
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        raise SystemExit("set DATABASE_URL (and YICIBAN_INSTANCE_DIR) to the bench database")
    if args.prepare:
        prepare(args.articles, args.seed)

    base = f"http://127.0.0.1:{args.port}"
    server = start_server(args.port, args.workers, args.threads)
    try:
        wait_until_up(base)
        size = check_search(base)
        print(f"machine: {machine()}")
        print(f"database: {urlsplit(os.environ['DATABASE_URL']).scheme}")
        print(
            f"server: yiciban serve workers={args.workers} threads={args.threads}; load: wrk "
            f"on the same machine; {args.duration}s per row; search page {size} bytes"
        )
        # Distinct queries: one unused slice per wrk run, so no run meets a cached page.
        runs = 1 + len(args.concurrency)
        fresh = distinct_queries(20825) if args.distinct else []
        slice_size = len(fresh) // runs
        cold_slices = [
            [f"{SEARCH_PATH}?q={quote(q)}" for q in fresh[i * slice_size : (i + 1) * slice_size]]
            for i in range(runs)
        ]
        if args.distinct:
            run_search(base, max(args.concurrency), args.warmup, args.load_threads, cold_slices[0])
        run_search(base, max(args.concurrency), args.warmup, args.load_threads)
        run_wrk(base, HEALTH_PATH, "GET", max(args.concurrency), args.warmup, args.load_threads)
        columns = ("conc", "req/s", "p50 ms", "p90 ms", "p99 ms", "errors")
        print(f"{'request':<32} " + " ".join(f"{c:>8}" for c in columns))
        for number, concurrency in enumerate(args.concurrency, start=1):
            rates = {}
            names = ["GET " + SEARCH_PATH + "?q=…", "GET " + HEALTH_PATH]
            if args.distinct:
                names.insert(0, "GET " + SEARCH_PATH + "?q= (distinct)")
            for name in names:
                if name.endswith("(distinct)"):
                    paths = cold_slices[number]
                    result = run_search(base, concurrency, args.duration, args.load_threads, paths)
                    if result["requests"] > len(paths):
                        print(f"note: {result['requests']} requests over {len(paths)} queries")
                elif name.startswith("GET " + SEARCH_PATH):
                    result = run_search(base, concurrency, args.duration, args.load_threads)
                else:
                    result = run_wrk(
                        base, HEALTH_PATH, "GET", concurrency, args.duration, args.load_threads
                    )
                rates[name] = result["rps"]
                print(
                    f"{name:<32} {concurrency:>8} {result['rps']:>8.0f} "
                    f"{result['p50_ms']:>8.1f} {result['p90_ms']:>8.1f} "
                    f"{result['p99_ms']:>8.1f} {result['errors']:>8}",
                    flush=True,
                )
            health_rps = rates["GET " + HEALTH_PATH]
            for name, rps in rates.items():
                if name != "GET " + HEALTH_PATH:
                    print(f"concurrency {concurrency}: {name} / healthz = {rps / health_rps:.2f}")
    finally:
        stop_server(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
