"""In-process cost of one bundle submission: the request of bench/cases_submit_http.py (the
1+3 restaurant bundle, 10 uploaded materials) through Django's test client — the whole API
path: middleware, token authentication, ninja parsing, `services.case_submit`, the response
schema — on the demo database, without HTTP or gunicorn. Prints the CPU and wall time per
submission, the SQL queries of one submission, and (with --profile) the cProfile top lists
(by default timed on this process's CPU clock, so waiting on PostgreSQL is not counted).

    export YICIBAN_INSTANCE_DIR=/tmp/inst-h1bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/h1bench
    .venv/bin/yiciban setup --demo --quiet        # once
    .venv/bin/python bench/cases_submit_profile.py --submissions 200 [--profile]

Each submission is a real case in the database (with its own Idempotency-Key)."""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from cases_submit_http import ANSWERS, BUNDLE, walkthrough_body  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--profile", action="store_true", help="print the cProfile top 40")
    parser.add_argument("--queries", action="store_true", help="print the SQL of one submit")
    parser.add_argument("--profile-out", default="", help="also write the cProfile stats here")
    parser.add_argument(
        "--clock",
        choices=("cpu", "wall"),
        default="cpu",
        help="cProfile's timer: this process's CPU time (default; waiting on the database "
        "does not count) or wall time",
    )
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiciban.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from yiciban.cases import services

    user = get_user_model().objects.get(username="zhangsan")
    _token, raw = services.api_token_create(actor=user, name=f"profile {uuid.uuid4().hex[:8]}")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_HOST="127.0.0.1")

    def post(path: str, body: dict, **headers):
        return client.post(
            path, data=json.dumps(body), content_type="application/json", headers=headers
        )

    preview = post("/api/v1/cases/preview", {"bundle": BUNDLE, "answers": ANSWERS}).json()

    def upload_one(kind: str, content: bytes) -> int:
        answer = client.post(
            "/api/v1/cases/uploads", {"file": SimpleUploadedFile("m.pdf", content)}
        )
        return answer.json()["id"]

    body, _count = walkthrough_body(preview, upload_one)
    prefix = f"profile-{uuid.uuid4().hex[:8]}"

    def submit(n: int) -> None:
        answer = post("/api/v1/cases", body, **{"Idempotency-Key": f"{prefix}-{n}"})
        if answer.status_code != 201:
            raise SystemExit(f"submit failed: {answer.status_code} {answer.content[:500]!r}")

    for n in range(args.warmup):
        submit(n)
    with CaptureQueriesContext(connection) as captured:
        submit(args.warmup)
    print(f"queries per submission: {len(captured.captured_queries)}")
    if args.queries:
        for q in captured.captured_queries:
            # a prepared statement's text is not kept by Django's query log
            print(" ", (q["sql"] or "(prepared statement)")[:300])

    backend_stat = None
    if connection.vendor == "postgresql":
        # the server is on this machine: its backend's CPU is read from /proc (ticks)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend_stat = Path(f"/proc/{cursor.fetchone()[0]}/stat")

    def backend_seconds() -> float:
        if backend_stat is None or not backend_stat.exists():
            return 0.0
        fields = backend_stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    timer = time.process_time if args.clock == "cpu" else time.perf_counter
    backend_before = backend_seconds()
    profiler = cProfile.Profile(timer) if args.profile else None
    cpu, wall = [], []
    for n in range(args.warmup + 1, args.warmup + 1 + args.submissions):
        c0, w0 = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        submit(n)
        if profiler:
            profiler.disable()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    print(
        f"{args.submissions} submissions: CPU per submit median "
        f"{statistics.median(cpu) * 1000:.1f} ms (mean {statistics.mean(cpu) * 1000:.1f}), "
        f"wall median {statistics.median(wall) * 1000:.1f} ms"
    )
    if backend_stat is not None:
        spent = backend_seconds() - backend_before
        print(f"PostgreSQL backend CPU per submit: {spent / args.submissions * 1000:.1f} ms")
    if profiler:
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(25)
        if args.profile_out:
            profiler.dump_stats(args.profile_out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
