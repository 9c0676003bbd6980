"""HTTP benchmark of case submission: `POST /api/v1/cases` of the 1+X bundle
*开办餐饮店一件事（华容县）* (the business registration plus three permits: food licence,
fire safety check on commitment, alcohol filing), the walk-through case of docs/api.md, by
`yiciban serve` on PostgreSQL, with its materials uploaded beforehand; in the same run the
framework floor (a Django view that inserts 6 rows) and the automatic approval (秒批) time.

    # once: the demo on PostgreSQL
    export YICIBAN_INSTANCE_DIR=/tmp/inst-h12bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/h12bench
    .venv/bin/yiciban setup --demo --quiet
    # the run: starts both servers, loads them, stops them, counts the cases
    .venv/bin/python bench/cases_submit_http.py --concurrency 32 --duration 20

What it does, in order:
1. starts `yiciban serve --workers W --threads T` on a loopback port, and the floor: the same
   Django project and middleware under gunicorn with the same workers and threads, whose one
   URL (`POST /floor`) inserts 6 case-event rows in one transaction — the cheapest write a
   Django view on this stack can do, made by this file (`floor_application`) because the
   project has no such view;
2. takes a token for `zhangsan`, uploads the bundle's materials (the upload throughput is
   measured there, with `--upload-concurrency` clients), checks one submission answers 201;
3. loads each server for `--duration` seconds at each `--concurrency` with `wrk` (a Lua
   script gives every submission its own `Idempotency-Key`), after a warm-up;
4. counts, in the database, the cases this run made and checks each is complete (4 items,
   its materials, the commitment) — a submission is counted only if whole;
5. measures automatic approval: `--auto-samples` sequential submissions of the 武陵区 自助秒批
   item, each decided inside the request; reports the median of submit → decided.

The load generator runs on the same 2-core machine as both servers and PostgreSQL; it takes
CPU from them."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = "huarong-restaurant"
ANSWERS = {
    "dine_in": True,
    "seats": 60,
    "floor_area_m2": 120,
    "sells_alcohol": True,
    "sells_tobacco": False,
    "signboard": False,
    "cooking_fumes": False,
}
PDF = b"%PDF-1.4\n%% yiciban bench material\n"
FLOOR_PATH = "/floor"
FLOOR_ROWS = 6

WRK_SCRIPT = """
local prefix = "%(prefix)s"
local counter = 0
local next_id = 0
wrk.method = "POST"
wrk.body = %(body)s
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(token)s"
function setup(thread)
  next_id = next_id + 1
  thread:set("thread_id", next_id)
end
function request()
  counter = counter + 1
  -- wrk.format uses the table given instead of wrk.headers: copy them in
  local headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers["Idempotency-Key"] = prefix .. "-" .. thread_id .. "-" .. counter
  return wrk.format(nil, nil, headers)
end
function done(summary, latency, requests)
  io.write(string.format(
    "JSON {\\"requests\\": %%d, \\"duration_us\\": %%d, \\"errors\\": %%d, \\"non2xx\\": %%d, "
    .. "\\"p50_us\\": %%d, \\"p90_us\\": %%d, \\"p99_us\\": %%d}\\n",
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
"""


# --- the floor: a tiny WSGI app of the same project (run by gunicorn from this file) -------


def _make_floor_application():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiciban.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import transaction
    from django.http import JsonResponse
    from django.urls import path
    from django.views.decorators.csrf import csrf_exempt

    from yiciban.cases.models import Case, CaseEvent

    case_id = Case.objects.order_by("id").values_list("id", flat=True).first()

    @csrf_exempt
    def floor(request):
        with transaction.atomic():
            for index in range(FLOOR_ROWS):
                CaseEvent.objects.create(case_id=case_id, kind="bench_floor", data={"i": index})
        return JsonResponse({"rows": FLOOR_ROWS}, status=201)

    sys.modules[__name__].urlpatterns = [path(FLOOR_PATH.lstrip("/"), floor)]
    settings.ROOT_URLCONF = __name__
    return WSGIHandler()


if os.environ.get("CASES_BENCH_FLOOR") == "1":
    floor_application = _make_floor_application()


# --- servers ------------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{cpu}, nproc {os.cpu_count()}, Python {platform.python_version()}"


def _spawn(command: list[str], name: str, env: dict | None = None) -> subprocess.Popen:
    log = open(Path(tempfile.gettempdir()) / f"cases_bench_{name}.log", "w")  # noqa: SIM115
    # own process group: stopping it stops gunicorn's workers with it, and nothing else
    return subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env
    )


def start_app(port: int, workers: int, threads: int) -> subprocess.Popen:
    command = [str(ROOT / ".venv/bin/yiciban"), "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers), "--threads", str(threads)]
    return _spawn(command, "app")


def start_floor(port: int, workers: int, threads: int) -> subprocess.Popen:
    command = [str(ROOT / ".venv/bin/gunicorn"), "--chdir", str(ROOT / "bench")]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    command += ["--threads", str(threads), "--worker-class", "gthread" if threads > 1 else "sync"]
    command += ["cases_submit_http:floor_application"]
    env = {**os.environ, "CASES_BENCH_FLOOR": "1", "PYTHONPATH": str(ROOT / "src")}
    return _spawn(command, "floor", env)


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def wait_until_up(url: str, method: str = "GET", timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(
                url, method=method, data=b"" if method == "POST" else None
            )
            with urllib.request.urlopen(request, timeout=5) as response:
                if response.status in (200, 201):
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {timeout} s")


# --- the client side ----------------------------------------------------------------------


def call(base: str, method: str, path: str, body=None, token: str = "", headers=None):
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    all_headers = {"Authorization": f"Bearer {token}"} if token else {}
    all_headers.update(headers or {})
    if isinstance(body, dict):
        body = json.dumps(body, ensure_ascii=False).encode()
        all_headers["Content-Type"] = "application/json"
    connection.request(method, path, body=body, headers=all_headers)
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response.status, json.loads(payload) if payload else None


def upload(base: str, token: str, name: str, content: bytes) -> int:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    status, answer = call(
        base,
        "POST",
        "/api/v1/cases/uploads",
        body,
        token,
        {"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    if status != 201:
        raise SystemExit(f"upload refused: {status} {answer}")
    return answer["id"]


def measure_uploads(base: str, token: str, count: int, concurrency: int) -> dict:
    """Distinct small PDFs (each a new content-addressed document), `concurrency` clients."""
    latencies: list[float] = []
    lock = threading.Lock()
    queue = list(range(count))

    def worker() -> None:
        while True:
            with lock:
                if not queue:
                    return
                index = queue.pop()
            content = PDF + f"% upload {uuid.uuid4().hex} {index}\n".encode()
            started = time.perf_counter()
            upload(base, token, f"u{index}.pdf", content)
            with lock:
                latencies.append(time.perf_counter() - started)

    began = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    return {
        "count": count,
        "rps": count / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
    }


def application(base: str, token: str) -> tuple[dict, int]:
    """The walk-through application with its materials uploaded once (reused by every
    submission: the same documents may back many cases)."""
    status, preview = call(
        base, "POST", "/api/v1/cases/preview", {"bundle": BUNDLE, "answers": ANSWERS}, token
    )
    if status != 200:
        raise SystemExit(f"preview failed: {status} {preview}")
    return walkthrough_body(preview, lambda kind, content: upload(base, token, "m.pdf", content))


def walkthrough_body(preview: dict, upload_one) -> tuple[dict, int]:
    """The submission of the walk-through case for a preview of the bundle; `upload_one(kind,
    content)` uploads one material and returns its document id."""
    code = {i["name"].split("（")[0]: i["code"] for i in preview["items"]}
    food = next(c for n, c in code.items() if n.startswith("食品经营许可"))
    fire = next(c for n, c in code.items() if n.startswith("公众聚集场所"))
    alcohol = next(c for n, c in code.items() if n.startswith("酒类经营备案"))
    materials = []
    for entry in preview["materials"]:
        if not entry["submit"] or entry["requirement"] != "required":
            continue
        if entry["kind"] == "fire.commitment":
            continue  # signed on the platform
        content = PDF + f"% {entry['kind']}\n".encode()
        materials.append({"kind": entry["kind"], "document": upload_one(entry["kind"], content)})
    body = {
        "bundle": BUNDLE,
        "answers": ANSWERS,
        "form": {
            "base": {
                "enterprise.name": "华容县好味道餐饮店",
                "enterprise.entity_type": "individual",
                "enterprise.business_scope": "餐饮服务；酒类零售",
                "enterprise.address": "华容县章华镇人民路1号",
                "legal_rep.name": "张三",
                "legal_rep.id_number": "430623198803120211",
                "legal_rep.phone": "13800000001",
                "premises.address": "华容县章华镇人民路1号",
                "premises.ownership": "leased",
                "premises.area_m2": 120,
            },
            food: {"food.business_items": ["hot_food", "drinks"], "food.safety_manager": "张三"},
            fire: {"fire.max_occupancy": 80},
            alcohol: {"alcohol.categories": ["beer", "baijiu"]},
        },
        "materials": materials,
        "commitments": [fire],
    }
    return body, len(materials)


def run_wrk(url: str, body: bytes, token: str, prefix: str, concurrency: int, duration: int):
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            WRK_SCRIPT % {"prefix": prefix, "body": "[==[" + body.decode() + "]==]", "token": token}
        )
    try:
        completed = subprocess.run(
            [
                *("wrk", "-t", "2", "-c", str(concurrency), "-d", f"{duration}s"),
                *("--timeout", "10s", "-s", script.name, url),
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=duration + 60,
        )
    finally:
        os.unlink(script.name)
    lines = [x for x in completed.stdout.splitlines() if x.startswith("JSON ")]
    if not lines:
        raise SystemExit(f"wrk said: {completed.stdout} {completed.stderr}")
    stats = json.loads(lines[0][5:])
    return {
        "rps": stats["requests"] / (stats["duration_us"] / 1e6),
        "p50_ms": stats["p50_us"] / 1000,
        "p90_ms": stats["p90_us"] / 1000,
        "p99_ms": stats["p99_us"] / 1000,
        "requests": stats["requests"],
        "errors": stats["errors"] + stats["non2xx"],
    }


def count_cases(prefix: str, materials: int) -> dict:
    """The cases of this run in the database, and how many are whole."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiciban.settings")
    import django

    django.setup()
    from django.db.models import Count, Q

    from yiciban.cases.models import Case

    cases = Case.objects.filter(idempotency_key__startswith=prefix).annotate(
        n_items=Count("items", distinct=True),
        n_materials=Count("materials", distinct=True, filter=~Q(materials__document=None)),
        n_commitments=Count("commitments", distinct=True),
    )
    total = cases.count()
    whole = cases.filter(n_items=4, n_materials__gte=materials, n_commitments=1).count()
    return {"cases": total, "whole": whole}


def automatic_approval(base: str, token: str, samples: int) -> dict:
    """Sequential submissions of the 秒批 item: the decision is made inside the request."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiciban.settings")
    import django

    django.setup()
    from yiciban.cases import selectors
    from yiciban.cases.demo import HUARONG_ENTERPRISE, _fill
    from yiciban.catalog import selectors as catalog_selectors

    page = catalog_selectors.items_list(q="公共场所卫生许可（自助秒批）", region="430702", limit=5)
    item = next(v for v in page.items if v.name == "公共场所卫生许可（自助秒批）")
    code = item.item.implementation_code
    preview = selectors.case_preview(item_code=code)
    materials = [
        {"kind": m["kind"], "document": upload(base, token, "a.pdf", PDF + m["kind"].encode())}
        for m in preview["materials"]
        if m.get("submit", True) and m["requirement"] == "required"
    ]
    body = {
        "item": code,
        "form": _fill(
            preview["form_schema"], {"enterprise.name": "华容县洞庭芥菜食品有限公司武陵门店"}
        ),
        "materials": materials,
        "commitments": [code],
        "enterprise_uscc": HUARONG_ENTERPRISE,
        "channel": "kiosk",
    }
    latencies, decided = [], 0
    for index in range(samples):
        started = time.perf_counter()
        status, answer = call(
            base,
            "POST",
            "/api/v1/cases",
            body,
            token,
            {"Idempotency-Key": f"auto-{uuid.uuid4().hex}-{index}"},
        )
        latencies.append(time.perf_counter() - started)
        if status != 201:
            raise SystemExit(f"automatic submission refused: {status} {answer}")
        decided += all(i["decision"] for i in answer["items"])
    return {
        "samples": samples,
        "decided": decided,
        "median_ms": statistics.median(latencies) * 1000,
        "p90_ms": statistics.quantiles(latencies, n=10)[8] * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8781)
    parser.add_argument("--floor-port", type=int, default=8782)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="as `yiciban serve` by default")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[32])
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--uploads", type=int, default=400)
    parser.add_argument("--upload-concurrency", type=int, default=8)
    parser.add_argument("--auto-samples", type=int, default=200)
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        raise SystemExit("set DATABASE_URL (and YICIBAN_INSTANCE_DIR) to the demo database")
    base = f"http://127.0.0.1:{args.port}"
    floor_base = f"http://127.0.0.1:{args.floor_port}"
    app = start_app(args.port, args.workers, args.threads)
    floor = start_floor(args.floor_port, args.workers, args.threads)
    try:
        wait_until_up(base + "/healthz")
        wait_until_up(floor_base + FLOOR_PATH, "POST")
        status, answer = call(
            base,
            "POST",
            "/api/v1/cases/tokens",
            {"username": "zhangsan", "password": "Demo@2021", "name": "bench"},
        )
        token = answer["token"]
        print(f"machine: {machine()}")
        print(
            f"servers: yiciban serve and the floor app, each gunicorn workers={args.workers} "
            f"threads={args.threads}, PostgreSQL; load: wrk -t2 on the same machine"
        )
        uploads = measure_uploads(base, token, args.uploads, args.upload_concurrency)
        print(
            f"uploads: {uploads['count']} small PDFs, {args.upload_concurrency} clients: "
            f"{uploads['rps']:.0f}/s, p50 {uploads['p50_ms']:.1f} ms"
        )
        body, n_materials = application(base, token)
        payload = json.dumps(body, ensure_ascii=False).encode()
        status, answer = call(
            base,
            "POST",
            "/api/v1/cases",
            payload,
            token,
            {"Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex},
        )
        if status != 201 or len(answer["items"]) != 4:
            raise SystemExit(f"check submission failed: {status} {answer}")
        print(f"application: 4 items, {n_materials} uploaded materials, {len(payload)} bytes")
        prefix = f"bench-{uuid.uuid4().hex[:8]}"
        run_wrk(base + "/api/v1/cases", payload, token, prefix + "w", 32, args.warmup)
        run_wrk(floor_base + FLOOR_PATH, b"", "", prefix + "f", 32, args.warmup)
        columns = ("conc", "req/s", "p50 ms", "p90 ms", "p99 ms", "errors")
        print(f"{'request':<28} " + " ".join(f"{c:>8}" for c in columns))
        for concurrency in args.concurrency:
            rates = {}
            for name, url, body_bytes, tok in (
                ("POST /api/v1/cases", base + "/api/v1/cases", payload, token),
                (f"POST {FLOOR_PATH} (6 rows)", floor_base + FLOOR_PATH, b"", ""),
            ):
                result = run_wrk(
                    url, body_bytes, tok, f"{prefix}-{concurrency}", concurrency, args.duration
                )
                rates[name] = result
                print(
                    f"{name:<28} {concurrency:>8} {result['rps']:>8.0f} {result['p50_ms']:>8.1f} "
                    f"{result['p90_ms']:>8.1f} {result['p99_ms']:>8.1f} {result['errors']:>8}",
                    flush=True,
                )
            submit, floor_rate = rates["POST /api/v1/cases"], rates[f"POST {FLOOR_PATH} (6 rows)"]
            ratio = submit["rps"] / floor_rate["rps"]
            print(f"concurrency {concurrency}: submit / floor = {ratio:.2f}")
            counted = count_cases(f"{prefix}-{concurrency}", n_materials)
            print(
                f"concurrency {concurrency}: wrk counted {submit['requests']} submissions "
                f"({submit['errors']} errors); database: {counted['cases']} cases, "
                f"{counted['whole']} whole (4 items, {n_materials} materials, 1 commitment)"
            )
        auto = automatic_approval(base, token, args.auto_samples)
        print(
            f"automatic approval (秒批): {auto['samples']} sequential submissions, "
            f"{auto['decided']} decided in the request; submit → decided median "
            f"{auto['median_ms']:.1f} ms, p90 {auto['p90_ms']:.1f} ms"
        )
    finally:
        stop(app)
        stop(floor)
    return 0


if __name__ == "__main__":
    sys.exit(main())
