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

Each answer is checked once before the load (status valid, stored signature valid, token
genuine). The server and the load generator (`wrk`, or Python threads) are those of
bench/catalog_http.py; the load runs on the same machine as the server."""

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


def demo_token() -> tuple[str, str]:
    """(licence number, QR token) of a valid demo permit, from the same instance folder (its
    keys) and database the server uses."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "yiciban.settings"
    import django

    django.setup()
    from yiciban.licences import signing
    from yiciban.licences.models import Licence, LicenceStatus

    licence = (
        Licence.objects.select_related("licence_type", "issuing_department")
        .filter(status=LicenceStatus.VALID, licence_type__is_business_licence=False)
        .order_by("id")
        .first()
    )
    if licence is None:
        raise SystemExit("no valid demo permit: run `yiciban setup --demo` on this database")
    return licence.number, signing.token_for(licence)


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
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        raise SystemExit("set DATABASE_URL (and YICIBAN_INSTANCE_DIR) to the demo database")
    tool = args.tool or ("wrk" if shutil.which("wrk") else "python")
    run = http_bench.run_wrk if tool == "wrk" else http_bench.run_python

    number, token = demo_token()
    verify_path = f"{VERIFY_PATH}?token={quote(token)}"
    server = None
    base = args.url
    if base is None:
        base = f"http://127.0.0.1:{args.port}"
        server = http_bench.start_server(args.port, args.workers, args.threads)
    try:
        http_bench.wait_until_up(base)
        size = check(base, verify_path, number)
        print(f"machine: {http_bench.machine()}")
        print(f"database: {urlsplit(os.environ['DATABASE_URL']).scheme}")
        print(
            f"server: {'yiciban serve' if server else base} workers={args.workers} "
            f"threads={args.threads}; load: {tool} on the same machine; {args.duration}s per "
            f"row; licence {number}, token {len(token)} chars, answer {size} bytes"
        )
        targets = (
            ("GET /api/v1/licences/verify?token=…", verify_path),
            ("GET " + http_bench.HEALTH_PATH, http_bench.HEALTH_PATH),
        )
        for _name, path in targets:
            run(base, path, "GET", max(args.concurrency), args.warmup, args.load_threads)
        columns = ("conc", "req/s", "p50 ms", "p90 ms", "p99 ms", "errors")
        print(f"{'request':<40} " + " ".join(f"{c:>8}" for c in columns))
        rates: dict[tuple[str, int], float] = {}
        for concurrency in args.concurrency:
            for name, path in targets:
                result = run(base, path, "GET", concurrency, args.duration, args.load_threads)
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
