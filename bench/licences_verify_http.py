"""HTTP benchmark of public licence verification: `GET /api/v1/licences/verify?token=…` — what
a phone sends after scanning a licence's QR code — served by `yiciban serve` (gunicorn), with
`GET /healthz` (one `SELECT 1`) measured in the same run as the floor. Target: ≥ 1,000
requests/s with p99 < 50 ms on PostgreSQL, 2 cores.

    # once: the demo on PostgreSQL
    YICIBAN_INSTANCE_DIR=/tmp/inst-bench DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench \\
        .venv/bin/yiciban setup --demo --quiet
    # the run: picks a demo permit and its QR token, starts the server, loads it, stops it
    YICIBAN_INSTANCE_DIR=/tmp/inst-bench DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/licences_verify_http.py --workers 2 --concurrency 8 32

The load cycles through the QR tokens of `--licences` valid permits (default 200: the demo's
permits, and copies of them issued by this script through the licence service, marked
source_reference "bench", when the database holds fewer), so it does not measure one hot
licence. Each answer is checked once before the load (status valid, stored signature valid,
token genuine). `--no-signature-cache` starts the server with YICIBAN_SIGNATURE_CACHE_SIZE=0:
every request verifies both Ed25519 signatures (the cold-cache figure). The server and the
load generator (`wrk`, or Python threads with one token) are those of bench/catalog_http.py;
the load runs on the same machine as the server.

`--in-process N` measures instead, without HTTP, the CPU time per request (time.process_time)
of N verifications and N `/healthz` through Django's WSGI handler — the whole middleware
stack, as a gunicorn worker runs it — and `--profile` adds a cProfile of the verifications."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlsplit

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "src"))

import catalog_http as http_bench  # noqa: E402  (the server and load generators)

VERIFY_PATH = "/api/v1/licences/verify"


def demo_tokens(count: int) -> list[tuple[str, str]]:
    """(licence number, QR token) of `count` valid permits, from the same instance folder (its
    keys) and database the server uses; copies of the demo's permits are issued first when
    there are fewer."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "yiciban.settings"
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from yiciban.licences import services, signing
    from yiciban.licences.models import Licence, LicenceStatus

    today = timezone.localdate()

    def valid_permits():
        rows = (
            Licence.objects.select_related("licence_type", "issuing_department", "enterprise")
            .filter(
                status=LicenceStatus.VALID,
                licence_type__is_business_licence=False,
                enterprise__isnull=False,
            )
            .order_by("id")
        )
        return [lic for lic in rows if lic.status_on(today) == LicenceStatus.VALID]

    licences = valid_permits()
    if not licences:
        raise SystemExit("no valid demo permit: run `yiciban setup --demo` on this database")
    if len(licences) < count:
        admin = get_user_model().objects.get(username="admin")
        for i in range(count - len(licences)):
            model = licences[i % len(licences)]
            services.licence_issue(
                actor=admin,
                licence_type=model.licence_type,
                issuing_department=model.issuing_department,
                enterprise=model.enterprise,
                fields=model.fields,
                source_reference="bench",
            )
        licences = valid_permits()
    return [(lic.number, signing.token_for(lic)) for lic in licences[:count]]


WRK_PATHS_SCRIPT = """
paths = {%(paths)s}
local threads = 0
function setup(thread)
  thread:set("offset", threads * 97)
  threads = threads + 1
end
function init(args)
  i = offset %% #paths
end
function request()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
""" + http_bench.WRK_SCRIPT.split("\n", 4)[4]


def run_wrk_paths(base: str, paths: list[str], concurrency: int, duration: int, threads: int):
    """bench/catalog_http.py's wrk run, each connection cycling through `paths`."""
    if len(paths) == 1:
        return http_bench.run_wrk(base, paths[0], "GET", concurrency, duration, threads)
    script_text = WRK_PATHS_SCRIPT % {"paths": ", ".join(json.dumps(p) for p in paths)}
    original = http_bench.WRK_SCRIPT
    http_bench.WRK_SCRIPT = script_text.replace("%", "%%")
    try:
        return http_bench.run_wrk(base, paths[0], "GET", concurrency, duration, threads)
    finally:
        http_bench.WRK_SCRIPT = original


def in_process(tokens: list[tuple[str, str]], count: int, profile: bool) -> None:
    """CPU per request through the WSGI handler, verify (cycling the tokens) then healthz."""
    import cProfile
    import io
    import pstats
    import time

    from django.core.handlers.wsgi import WSGIHandler

    app = WSGIHandler()

    def environ(path: str, query: str) -> dict:
        return {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1:8000",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
        }

    def start_response(status: str, _headers, _exc_info=None) -> None:
        if not status.startswith("200"):
            raise SystemExit(f"unexpected status {status}")

    def run(path: str, queries: list[str], n: int) -> tuple[float, float]:
        cpu, wall = time.process_time(), time.perf_counter()
        for i in range(n):
            b"".join(app(environ(path, queries[i % len(queries)]), start_response))
        return (time.process_time() - cpu) / n * 1e3, (time.perf_counter() - wall) / n * 1e3

    queries = ["token=" + quote(token) for _number, token in tokens]
    run(VERIFY_PATH, queries, min(count, 300))  # warm: connection, caches, imports
    run(http_bench.HEALTH_PATH, [""], min(count, 300))
    print(f"in process, {count} requests per row, {len(tokens)} tokens")
    for _round in range(2):
        verify_cpu, verify_wall = run(VERIFY_PATH, queries, count)
        health_cpu, health_wall = run(http_bench.HEALTH_PATH, [""], count)
        print(
            f"verify CPU {verify_cpu:.3f} ms/request (wall {verify_wall:.3f}); healthz CPU "
            f"{health_cpu:.3f} (wall {health_wall:.3f}); verify - healthz "
            f"{verify_cpu - health_cpu:.3f} ms",
            flush=True,
        )
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        run(VERIFY_PATH, queries, count)
        profiler.disable()
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(25)


def check(base: str, path: str, number: str) -> int:
    with urllib.request.urlopen(base + path, timeout=10) as response:
        payload = response.read()
    answer = json.loads(payload)
    if not (
        answer["number"] == number
        and answer["status"] == "valid"
        and answer["signature_valid"]
        and answer["token_ok"]
    ):
        raise SystemExit(f"unexpected verification answer: {answer}")
    return len(payload)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="load a running server instead of starting one")
    parser.add_argument("--port", type=int, default=8793)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--duration", type=int, default=20, help="seconds per measurement")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--tool", choices=["wrk", "python"], default=None)
    parser.add_argument("--load-threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--licences", type=int, default=200, help="distinct tokens to cycle")
    parser.add_argument(
        "--no-signature-cache",
        action="store_true",
        help="verify every signature (YICIBAN_SIGNATURE_CACHE_SIZE=0): the cold-cache figure",
    )
    parser.add_argument("--in-process", type=int, metavar="N", help="CPU per request, no HTTP")
    parser.add_argument("--profile", action="store_true", help="with --in-process: cProfile")
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        raise SystemExit("set DATABASE_URL (and YICIBAN_INSTANCE_DIR) to the demo database")
    tool = args.tool or ("wrk" if shutil.which("wrk") else "python")
    run = http_bench.run_wrk if tool == "wrk" else http_bench.run_python

    if args.no_signature_cache:
        os.environ["YICIBAN_SIGNATURE_CACHE_SIZE"] = "0"  # this process and the server's
    tokens = demo_tokens(args.licences)
    if args.in_process:
        in_process(tokens, args.in_process, args.profile)
        return 0
    number, token = tokens[0]
    verify_paths = [f"{VERIFY_PATH}?token={quote(t)}" for _n, t in tokens]
    server = None
    base = args.url
    if base is None:
        base = f"http://127.0.0.1:{args.port}"
        server = http_bench.start_server(args.port, args.workers, args.threads)
    try:
        http_bench.wait_until_up(base)
        for checked_number, checked_token in tokens:
            size = check(base, f"{VERIFY_PATH}?token={quote(checked_token)}", checked_number)
        print(f"machine: {http_bench.machine()}")
        print(f"database: {urlsplit(os.environ['DATABASE_URL']).scheme}")
        print(
            f"server: {'yiciban serve' if server else base} workers={args.workers} "
            f"threads={args.threads}; load: {tool} on the same machine; {args.duration}s per "
            f"row; {len(tokens)} licences cycled (e.g. {number}), token {len(token)} chars, "
            f"answer {size} bytes; signature cache "
            f"{'off' if args.no_signature_cache else 'on'}"
        )
        targets = (
            ("GET /api/v1/licences/verify?token=…", verify_paths),
            ("GET " + http_bench.HEALTH_PATH, [http_bench.HEALTH_PATH]),
        )

        def load(paths: list[str], concurrency: int, seconds: int) -> dict:
            if tool == "wrk":
                return run_wrk_paths(base, paths, concurrency, seconds, args.load_threads)
            return run(base, paths[0], "GET", concurrency, seconds, args.load_threads)

        for _name, paths in targets:
            load(paths, max(args.concurrency), args.warmup)
        columns = ("conc", "req/s", "p50 ms", "p90 ms", "p99 ms", "errors")
        print(f"{'request':<40} " + " ".join(f"{c:>8}" for c in columns))
        rates: dict[tuple[str, int], float] = {}
        for concurrency in args.concurrency:
            for name, paths in targets:
                result = load(paths, concurrency, args.duration)
                rates[name, concurrency] = result["rps"]
                print(
                    f"{name:<40} {concurrency:>8} {result['rps']:>8.0f} {result['p50_ms']:>8.1f} "
                    f"{result['p90_ms']:>8.1f} {result['p99_ms']:>8.1f} {result['errors']:>8}",
                    flush=True,
                )
        for concurrency in args.concurrency:
            ratio = rates[targets[0][0], concurrency] / rates[targets[1][0], concurrency]
            print(f"concurrency {concurrency}: verify / healthz = {ratio:.2f}")
    finally:
        if server is not None:
            http_bench.stop_server(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
