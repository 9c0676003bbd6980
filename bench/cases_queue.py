"""The staff queue with a million cases: p50/p95 of the department queue page
(`GET /cases/queue/`, HTML, signed-in reviewer) and of the queue API
(`GET /api/v1/cases/tasks?role=reviewer`, token), served by `yiciban serve` on PostgreSQL.

    export YICIBAN_INSTANCE_DIR=/tmp/inst-h12bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/h12bench
    .venv/bin/yiciban setup --demo --quiet        # once
    .venv/bin/python bench/cases_queue.py --cases 1000000 --samples 300

Data: `--cases` single-item cases are made with three `INSERT … SELECT generate_series`
statements (cases, their items, one task each), copying the item version, process template
and department of the demo's case items in turn (14 combinations over 7 departments of 5
places), so 华容县市场监督管理局 gets 2/14 of them. `--active` of the tasks (default 5 %) are
open — alternately a review (reviewer) and an approval (approver) — with due dates spread
from 10 days overdue to 30 days ahead; the others are done. The rows are made once (marked
by case numbers starting with `Q`) and kept for later runs; `ANALYZE` follows.

Measured: sequential requests (one client, after a warm-up) so the figure is the page's
own latency, not queueing; the load generator (this script) runs on the same 2-core
machine. The query plan of the queue's SQL is printed (EXPLAIN ANALYZE) to show the index
it uses."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Demo@2021"
REVIEWER = "huarong_market_reviewer"

GENERATE_CASES = """
INSERT INTO cases_case (number, title, channel, answers, form_data, state, green_channel,
    green_channel_reason, idempotency_key, request_fingerprint, submitted_at, closed_reason,
    updated_at, region_id, submitted_by_id, item_version_id, applicant_person_id, accepted_at)
SELECT 'Q' || lpad(g::text, 12, '0'), %(title)s, 'online', '{}', '{}',
    CASE WHEN g %% 100 < %(active)s THEN 'in_progress' ELSE 'delivered' END,
    g %% 97 = 0, '', '', '', now() - (g %% 400) * interval '1 day', '', now(),
    %(region)s, %(user)s, %(item_version)s, %(person)s, now() - (g %% 400) * interval '1 day'
FROM generate_series(%(first)s, %(last)s) g
"""
GENERATE_ITEMS = """
INSERT INTO cases_caseitem (case_id, position, code, name, role, depends_on, state, step,
    on_fallback, fallback_reason, green_channel, "limit", unit, extension_days,
    due_provisional, suspended, version, department_id, item_version_id, process_template_id,
    started_on, due_on, warn_from)
SELECT c.id, 0, k.code, k.name, 'base', '[]',
    CASE WHEN c.state = 'in_progress' THEN 'reviewing' ELSE 'approved' END,
    CASE WHEN c.state = 'in_progress' THEN 'review' ELSE 'deliver' END,
    false, '', c.green_channel, 20, 'working', 0, false, false, 1,
    k.department_id, k.item_version_id, k.process_template_id,
    current_date - 20, current_date + (c.id %% 40)::int - 10,
    current_date + (c.id %% 40)::int - 11
FROM cases_case c
JOIN (SELECT row_number() OVER (ORDER BY item_version_id, department_id) - 1 AS n, *
      FROM (SELECT DISTINCT ON (item_version_id, department_id) item_version_id,
                   department_id, process_template_id, code, name
            FROM cases_caseitem WHERE case_id IN (SELECT id FROM cases_case
                                                  WHERE number NOT LIKE 'Q%%')) d) k
  ON k.n = c.id %% %(combos)s
WHERE c.number LIKE 'Q%%' AND c.id BETWEEN %(low)s AND %(high)s
"""
GENERATE_TASKS = """
INSERT INTO cases_task (case_id, case_item_id, kind, role, department_id, state, version,
    due_on, warn_from, suspended, green_channel, created_at, outcome, comment, completed_at)
SELECT i.case_id, i.id,
    CASE WHEN i.id %% 2 = 0 THEN 'review' ELSE 'approve' END,
    CASE WHEN i.id %% 2 = 0 THEN 'reviewer' ELSE 'approver' END,
    i.department_id,
    CASE WHEN i.state = 'reviewing' THEN 'open' ELSE 'done' END, 1,
    i.due_on, i.warn_from, false, i.green_channel, now(), '', '',
    CASE WHEN i.state = 'reviewing' THEN NULL ELSE now() END
FROM cases_caseitem i JOIN cases_case c ON c.id = i.case_id
WHERE c.number LIKE 'Q%%' AND c.id BETWEEN %(low)s AND %(high)s
"""


def machine() -> str:
    cpu = platform.machine()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{cpu}, nproc {os.cpu_count()}, Python {platform.python_version()}"


def setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiciban.settings")
    import django

    django.setup()


def generate(cases: int, active: int, batch: int) -> None:
    """Makes the missing generated cases (numbers `Q…`), in batches of `batch`."""
    from django.db import connection, transaction

    from yiciban.cases.models import Case

    existing = Case.objects.filter(number__startswith="Q").count()
    if existing >= cases:
        print(f"data: {existing} generated cases already there")
        return
    template = Case.objects.filter(item_version__isnull=False).exclude(number__startswith="Q")
    template = (
        template.order_by("id").first()
        or Case.objects.exclude(number__startswith="Q").order_by("id").first()
    )
    item = template.items.order_by("id").first()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT DISTINCT item_version_id, department_id "
            "FROM cases_caseitem WHERE case_id IN (SELECT id FROM cases_case "
            "WHERE number NOT LIKE 'Q%%')) d"
        )
        combos = cursor.fetchone()[0]
    started = time.perf_counter()
    for first in range(existing + 1, cases + 1, batch):
        last = min(first + batch - 1, cases)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                GENERATE_CASES,
                {
                    "title": "基准测试办件",
                    "active": active,
                    "region": template.region_id,
                    "user": template.submitted_by_id,
                    "item_version": item.item_version_id,
                    "person": template.applicant_person_id or template.acting_person_id,
                    "first": first,
                    "last": last,
                },
            )
            cursor.execute(
                "SELECT min(id), max(id) FROM cases_case WHERE number >= %s AND number <= %s",
                ["Q" + str(first).zfill(12), "Q" + str(last).zfill(12)],
            )
            low, high = cursor.fetchone()
            bounds = {"low": low, "high": high, "combos": combos}
            cursor.execute(GENERATE_ITEMS, bounds)
            cursor.execute(GENERATE_TASKS, bounds)
        print(f"  generated cases up to {last} ({time.perf_counter() - started:.0f} s)", flush=True)
    with connection.cursor() as cursor:
        for table in ("cases_case", "cases_caseitem", "cases_task"):
            cursor.execute(f"ANALYZE {table}")


def counts() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        result = {}
        for table in ("cases_case", "cases_caseitem", "cases_task"):
            cursor.execute(f"SELECT count(*) FROM {table}")
            result[table] = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM cases_task WHERE state IN ('open', 'claimed')")
        result["active tasks"] = cursor.fetchone()[0]
    return result


def explain_queue() -> tuple[int, str]:
    """The SQL of the reviewer's first queue page, and its plan."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from yiciban.cases import selectors

    user = get_user_model().objects.get(username=REVIEWER)
    tasks = selectors.task_queue(user)
    total = tasks.count()
    sql, params = tasks[:25].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return total, plan


# --- server and client --------------------------------------------------------------------


def start_server(port: int, workers: int, threads: int) -> subprocess.Popen:
    command = [str(ROOT / ".venv/bin/yiciban"), "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers), "--threads", str(threads)]
    log = open(Path(tempfile.gettempdir()) / "cases_queue_server.log", "w")  # noqa: SIM115
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def wait_until_up(base: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"server at {base} did not start")


class Session:
    """A keep-alive connection with the cookies the server set."""

    def __init__(self, port: int):
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body=None, headers=None):
        all_headers = dict(headers or {})
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.connection.request(method, path, body=body, headers=all_headers)
            response = self.connection.getresponse()
        except (OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.connection.request(method, path, body=body, headers=all_headers)
            response = self.connection.getresponse()
        payload = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        if response.will_close:
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        return response.status, payload

    def log_in(self, username: str) -> None:
        self.request("GET", "/login/")
        form = urlencode(
            {
                "username": username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": self.cookies["csrftoken"],
            }
        )
        status, _ = self.request(
            "POST",
            "/login/",
            form,
            {"Content-Type": "application/x-www-form-urlencoded", "Referer": "http://127.0.0.1/"},
        )
        if status != 302:
            raise SystemExit(f"login as {username} failed ({status})")


def sample(session: Session, path: str, samples: int, headers=None, check=None) -> dict:
    latencies = []
    for _ in range(samples):
        started = time.perf_counter()
        status, payload = session.request("GET", path, headers=headers)
        latencies.append(time.perf_counter() - started)
        if status != 200:
            raise SystemExit(f"GET {path} answered {status}")
    if check is not None:
        check(payload)
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": cuts[94] * 1000,
        "p99_ms": cuts[98] * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--active", type=int, default=5, help="percent of open tasks")
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--port", type=int, default=8783)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--generate-only", action="store_true", help="make the rows and stop (no measurement)"
    )
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ or not os.environ["DATABASE_URL"].startswith("postgres"):
        raise SystemExit("set DATABASE_URL to the PostgreSQL demo database")
    setup_django()
    generate(args.cases, args.active, args.batch)
    if args.generate_only:
        print("rows: " + ", ".join(f"{k} {v}" for k, v in counts().items()))
        return 0
    print(f"machine: {machine()}")
    print("rows: " + ", ".join(f"{k} {v}" for k, v in counts().items()))
    total, plan = explain_queue()
    print(f"{REVIEWER}'s queue: {total} active tasks; plan of its first page:")
    print("\n".join("    " + line for line in plan.splitlines()))
    server = start_server(args.port, args.workers, args.threads)
    try:
        base = f"http://127.0.0.1:{args.port}"
        wait_until_up(base)
        session = Session(args.port)
        session.log_in(REVIEWER)
        _status, token_json = Session(args.port).request(
            "POST",
            "/api/v1/cases/tokens",
            json.dumps({"username": REVIEWER, "password": PASSWORD, "name": "bench"}),
            {"Content-Type": "application/json"},
        )
        token = json.loads(token_json)["token"]

        def page_check(payload: bytes) -> None:
            shown = re.search(r"(\d+) 项任务", payload.decode())
            if not shown or int(shown.group(1)) != total:
                raise SystemExit("the queue page does not show the expected task count")

        def api_check(payload: bytes) -> None:
            if json.loads(payload)["count"] != total:
                raise SystemExit("the queue API does not count the expected tasks")

        targets = (
            ("GET /cases/queue/ (HTML page)", "/cases/queue/", {}, page_check),
            (
                "GET /api/v1/cases/tasks",
                "/api/v1/cases/tasks?limit=25",
                {"Authorization": f"Bearer {token}"},
                api_check,
            ),
            (
                "GET /cases/queue/?status=overdue",
                "/cases/queue/?status=overdue",
                {},
                None,
            ),
        )
        print(
            f"server: yiciban serve workers={args.workers} threads={args.threads}; "
            f"{args.samples} sequential requests each after 20 warm-up requests"
        )
        print(f"{'request':<36} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
        for name, path, headers, check in targets:
            sample(session, path, 20, headers)
            result = sample(session, path, args.samples, headers, check)
            print(
                f"{name:<36} {result['p50_ms']:>8.1f} {result['p95_ms']:>8.1f} "
                f"{result['p99_ms']:>8.1f}",
                flush=True,
            )
    finally:
        stop_server(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
