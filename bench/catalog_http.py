"""HTTP benchmark of smart guidance: `POST /api/v1/bundles/lanshan-one-licence/guidance`
with answers that make all 25 optional items of the Lanshan 1+X bundle applicable, served by
`yiciban serve` (gunicorn), with `GET /healthz` (one `SELECT 1`, the lightest Django view
that touches the database) measured in the same run as the floor.

    # once: the demo on PostgreSQL
    YICIBAN_INSTANCE_DIR=/tmp/inst-bench DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench \\
        .venv/bin/yiciban setup --demo --quiet
    # the run: starts the server, loads it, stops it
    YICIBAN_INSTANCE_DIR=/tmp/inst-bench DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/catalog_http.py --workers 2 --concurrency 8 32 --duration 20

The server is started by this script on a loopback port (`--workers`, `--threads` are
passed to `yiciban serve`), checked with one request whose answer must list 26 items, warmed
up, loaded for `--duration` seconds per URL and concurrency level, then stopped. The load
generator runs on the same machine (it competes with the server for the CPU): `wrk` when it
is installed (a Lua script sends the POST and prints the latency percentiles), otherwise a
Python generator with one keep-alive http.client connection per thread (`--tool python`).
Reports requests/s, median, 90th and 99th percentile latency, and the guidance/healthz
ratio, with the machine's CPU. Use `--url` to load a server started elsewhere."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = "lanshan-one-licence"
GUIDANCE_PATH = f"/api/v1/bundles/{BUNDLE}/guidance"
HEALTH_PATH = "/healthz"

# Every optional item of the 1+X bundle applies (see demo/catalog/bundles.yaml).
ALL_25 = {
    "entity_type": "company",
    "sells_food": True,
    "food_activities": ["retail", "catering", "workshop"],
    "sells_drugs": True,
    "sells_devices": True,
    "special_equipment": True,
    "agri_inputs": ["pesticide", "vet_drugs", "seeds"],
    "transport": ["freight", "repair", "driver_training"],
    "sells_tobacco": True,
    "lodging": True,
    "engraves_seals": True,
    "scrap_metal": True,
    "public_venues": ["bath", "beauty_salon"],
    "clinic": True,
    "culture": ["song_dance", "internet_cafe", "publications"],
    "pollutes": True,
    "outdoor_ad": True,
    "sells_alcohol": True,
    "crowded_place": True,
    "floor_area_m2": 320,
    "hazardous_chemicals": True,
}
BODY = json.dumps({"answers": ALL_25}, ensure_ascii=False).encode()

WRK_SCRIPT = """
wrk.method = "%(method)s"
wrk.body = %(body)s
wrk.headers["Content-Type"] = "application/json"
function done(summary, latency, requests)
  io.write(string.format(
    "JSON {\\"requests\\": %%d, \\"duration_us\\": %%d, \\"errors\\": %%d, \\"non2xx\\": %%d, "
    .. "\\"p50_us\\": %%d, \\"p90_us\\": %%d, \\"p99_us\\": %%d, \\"mean_us\\": %%f}\\n",
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean))
end
"""


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


# --- the server -------------------------------------------------------------------------


def start_server(port: int, workers: int, threads: int) -> subprocess.Popen:
    command = [
        str(ROOT / ".venv" / "bin" / "yiciban"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--threads",
        str(threads),
    ]
    log = open(Path(tempfile.gettempdir()) / f"catalog_http_server_{port}.log", "w")  # noqa: SIM115
    # own process group: stopping it stops gunicorn's workers with it, and nothing else
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
            with urllib.request.urlopen(base + HEALTH_PATH, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"server at {base} did not answer {HEALTH_PATH} within {timeout} s")


def check_guidance(base: str) -> int:
    """The measured request does what it claims: 200 with the base item and 25 permits."""
    request = urllib.request.Request(
        base + GUIDANCE_PATH, data=BODY, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        payload = response.read()
        result = json.loads(payload)
    if len(result["items"]) != 26:
        raise SystemExit(f"expected 26 applicable items, got {len(result['items'])}")
    return len(payload)


# --- load generators --------------------------------------------------------------------


def run_wrk(base: str, path: str, method: str, concurrency: int, duration: int, threads: int):
    body = json.dumps(BODY.decode()) if method == "POST" else "nil"
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % {"method": method, "body": body})
    try:
        completed = subprocess.run(
            [
                "wrk",
                "-t",
                str(min(threads, concurrency)),
                "-c",
                str(concurrency),
                "-d",
                f"{duration}s",
                "--timeout",
                "10s",
                "-s",
                script.name,
                base + path,
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=duration + 60,
        )
    finally:
        os.unlink(script.name)
    line = next(x for x in completed.stdout.splitlines() if x.startswith("JSON "))
    stats = json.loads(line[5:])
    seconds = stats["duration_us"] / 1e6
    return {
        "rps": stats["requests"] / seconds,
        "p50_ms": stats["p50_us"] / 1000,
        "p90_ms": stats["p90_us"] / 1000,
        "p99_ms": stats["p99_us"] / 1000,
        "requests": stats["requests"],
        "errors": stats["errors"] + stats["non2xx"],
    }


def run_python(base: str, path: str, method: str, concurrency: int, duration: int, _threads):
    """One thread per connection, each keeping its connection open (and reopening it when
    the server closes it, as gunicorn's sync workers do after every response)."""
    parts = urlsplit(base)
    stop_at = time.monotonic() + duration
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
    headers = {"Content-Type": "application/json"} if method == "POST" else {}
    body = BODY if method == "POST" else None

    def worker(index: int) -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        mine = latencies[index]
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    errors[index] += 1
                if response.will_close:
                    connection.close()
            except (OSError, http.client.HTTPException):
                errors[index] += 1
                connection.close()
                continue
            mine.append(time.perf_counter() - started)
        connection.close()

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    began = time.monotonic()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    elapsed = time.monotonic() - began
    flat = sorted(x for per in latencies for x in per)
    quantiles = statistics.quantiles(flat, n=100) if len(flat) > 1 else [0.0] * 99
    return {
        "rps": len(flat) / elapsed,
        "p50_ms": statistics.median(flat) * 1000 if flat else 0.0,
        "p90_ms": quantiles[89] * 1000,
        "p99_ms": quantiles[98] * 1000,
        "requests": len(flat),
        "errors": sum(errors),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="load a running server instead of starting one")
    parser.add_argument("--port", type=int, default=8769)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--duration", type=int, default=20, help="seconds per measurement")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per URL")
    parser.add_argument("--tool", choices=["wrk", "python"], default=None)
    parser.add_argument("--load-threads", type=int, default=2, help="wrk threads")
    args = parser.parse_args()
    tool = args.tool or ("wrk" if shutil.which("wrk") else "python")
    run = run_wrk if tool == "wrk" else run_python

    server = None
    base = args.url
    if base is None:
        if "DATABASE_URL" not in os.environ:
            raise SystemExit("set DATABASE_URL (and YICIBAN_INSTANCE_DIR) to the demo database")
        base = f"http://127.0.0.1:{args.port}"
        server = start_server(args.port, args.workers, args.threads)
    try:
        wait_until_up(base)
        size = check_guidance(base)
        print(f"machine: {machine()}")
        print(f"database: {urlsplit(os.environ.get('DATABASE_URL', '?')).scheme or '?'}")
        print(
            f"server: {'yiciban serve' if server else base} workers={args.workers} "
            f"threads={args.threads}; load: {tool} on the same machine; "
            f"{args.duration}s per row; guidance response {size} bytes"
        )
        targets = (
            ("POST " + GUIDANCE_PATH, "POST", GUIDANCE_PATH),
            ("GET " + HEALTH_PATH, "GET", HEALTH_PATH),
        )
        for _name, method, path in targets:
            run(base, path, method, max(args.concurrency), args.warmup, args.load_threads)
        columns = ("conc", "req/s", "p50 ms", "p90 ms", "p99 ms", "errors")
        print(f"{'request':<52} " + " ".join(f"{c:>8}" for c in columns))
        rates: dict[tuple[str, int], float] = {}
        for concurrency in args.concurrency:
            for name, method, path in targets:
                result = run(base, path, method, concurrency, args.duration, args.load_threads)
                rates[name, concurrency] = result["rps"]
                print(
                    f"{name:<52} {concurrency:>8} {result['rps']:>8.0f} {result['p50_ms']:>8.1f} "
                    f"{result['p90_ms']:>8.1f} {result['p99_ms']:>8.1f} {result['errors']:>8}",
                    flush=True,
                )
        for concurrency in args.concurrency:
            guidance = rates["POST " + GUIDANCE_PATH, concurrency]
            floor = rates["GET " + HEALTH_PATH, concurrency]
            print(f"concurrency {concurrency}: guidance / healthz = {guidance / floor:.2f}")
    finally:
        if server is not None:
            stop_server(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
