"""Ledger append and integration benchmark (docs/benchmarks.md).

Measures, on the database of DATABASE_URL (use a scratch database: the ledger tables are
emptied first):

1. append throughput — one entry per transaction (an app writing one record), 100 entries
   per transaction (a service writing several), and bulk `ledger_append_many`;
2. integration time of a batch of N pending entries (indices, tiles, consistency check,
   signed checkpoint: one transaction);
3. sustained load: batched appends for --sustained-seconds (default 60) while `yiciban
   worker` (a separate process, the deployed integration path through the task queue)
   integrates them; reports the append rate, the rate integrated under signed checkpoints
   within the run, the backlog left, and the integration delay (append commit → first
   checkpoint covering the entry seen by a reader polling every 10 ms), p50/p99/max.

Run:
  YICIBAN_INSTANCE_DIR=/tmp/bench DATABASE_URL=sqlite:////tmp/bench/ledger.sqlite3 \\
    .venv/bin/python bench/ledger_append.py --entries 10000
  YICIBAN_INSTANCE_DIR=/tmp/bench DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench \\
    .venv/bin/python bench/ledger_append.py --entries 10000
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time


def setup_django_only() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiciban.settings")
    import django

    django.setup()


def setup() -> None:
    setup_django_only()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def reset() -> None:
    from django.db import connection
    from django_tasks_db.models import DBTaskResult

    tables = (
        "ledger_entry",
        "ledger_entryindex",
        "ledger_pendingseq",
        "ledger_tile",
        "ledger_checkpoint",
        "ledger_logstate",
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # TRUNCATE, not DELETE: no dead rows of the last run left in the indexes.
            cursor.execute(f"TRUNCATE {', '.join(tables)}")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")
    DBTaskResult.objects.all().delete()


def payload(i: int) -> dict:
    # A typical case event: ids, a state change, a masked person.
    return {
        "case": f"430623-2025-{i:07d}",
        "event": "accepted",
        "by": "huarong_clerk",
        "applicant": "430623********1234",
        "materials": [f"M{i % 7}", f"M{i % 11}"],
        "step": i % 9,
    }


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s ({count} in {seconds:.2f} s)"


def bench_appends(n: int) -> None:
    from django.db import transaction

    from yiciban.ledger.services import ledger_append, ledger_append_many

    reset()
    started = time.perf_counter()
    for i in range(n):
        with transaction.atomic():
            ledger_append(kind="case.event", producer="cases", payload=payload(i))
    print(f"  append, 1 entry per transaction:    {rate(n, time.perf_counter() - started)}")

    started = time.perf_counter()
    for start in range(0, n, 100):
        with transaction.atomic():
            for i in range(start, min(n, start + 100)):
                ledger_append(kind="case.event", producer="cases", payload=payload(i))
    print(f"  append, 100 per transaction:        {rate(n, time.perf_counter() - started)}")

    started = time.perf_counter()
    for start in range(0, n, 1000):
        ledger_append_many(
            entries=[
                {"kind": "case.event", "producer": "cases", "payload": payload(i)}
                for i in range(start, min(n, start + 1000))
            ]
        )
    print(f"  append_many, 1000 per call:         {rate(n, time.perf_counter() - started)}")


def bench_integration(n: int) -> None:
    from yiciban.ledger.services import ledger_append_many, ledger_integrate

    for batch in (1_000, n):
        reset()
        ledger_integrate()  # the empty tree's checkpoint
        # Pre-fill so the batch lands on an existing tree with partial tiles.
        ledger_append_many(
            entries=[
                {"kind": "case.event", "producer": "cases", "payload": payload(i)}
                for i in range(777)
            ]
        )
        ledger_integrate()
        for start in range(0, batch, 1000):
            ledger_append_many(
                entries=[
                    {"kind": "case.event", "producer": "cases", "payload": payload(i)}
                    for i in range(start, min(batch, start + 1000))
                ]
            )
        started = time.perf_counter()
        result = ledger_integrate(batch_size=batch)
        elapsed = time.perf_counter() - started
        assert result.integrated == batch, result
        print(
            f"  integrate {batch:>6} pending (1 batch): {elapsed * 1000:8.1f} ms "
            f"= {batch / elapsed:,.0f} entries/s"
        )


def bench_sustained(seconds: float, per_call: int, rate: float, appenders: int = 1) -> dict:
    """Appends for `seconds` from `appenders` processes (as several web workers would write;
    each calls ledger_append_many with `per_call` entries per transaction, paced to
    `rate / appenders` entries/s or flat out if `rate` is 0) while `yiciban worker` — a
    separate process, as deployed — integrates them through the task queue. An observer
    process polls the latest checkpoint every 10 ms; an entry's delay is from the commit of
    its append to the first observation of a checkpoint that covers it (so it includes up to
    10 ms of polling). The delay to the checkpoint's signing time (its created_at, just
    before its commit) is given as a cross-check."""
    import bisect
    import subprocess

    from django.conf import settings

    from yiciban.ledger.models import Checkpoint, EntryIndex
    from yiciban.ledger.services import ledger_integrate

    reset()
    ledger_integrate()  # the empty tree's checkpoint
    log_path = os.path.join(settings.INSTANCE_DIR, "ledger-bench-worker.log")
    log = open(log_path, "w")  # noqa: SIM115 — closed below, after the worker
    worker = subprocess.Popen(
        [sys.executable, "-m", "yiciban.cli", "worker"],  # its default polling interval
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    # The observer is its own process: a thread here would wait for the GIL behind the
    # appender and see checkpoints late.
    observed_path = os.path.join(settings.INSTANCE_DIR, "ledger-bench-observed.txt")
    observer = subprocess.Popen([sys.executable, __file__, "--observe", observed_path])
    deadline = time.time() + 180  # both start Django first: seconds on a loaded machine
    while time.time() < deadline and not (
        os.path.exists(observed_path)
        and _read_observed(observed_path)
        and "Starting worker" in open(log_path).read()  # noqa: SIM115
    ):
        time.sleep(0.1)
    # The appenders start Django, then wait for a common start time.
    started = time.time() + 5.0
    batch_paths = [
        os.path.join(settings.INSTANCE_DIR, f"ledger-bench-appender-{n}.txt")
        for n in range(appenders)
    ]
    appender_processes = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--append-into",
                path,
                "--start-at",
                repr(started),
                "--sustained-seconds",
                repr(seconds),
                "--per-call",
                str(per_call),
                "--rate",
                repr(rate / appenders),
            ]
        )
        for path in batch_paths
    ]
    try:
        for process in appender_processes:
            if process.wait() != 0:
                raise RuntimeError(f"an appender failed (exit {process.returncode})")
        batches: list[tuple[list[int], float]] = []  # (seqs, commit time)
        append_end = started
        for path in batch_paths:
            with open(path) as lines:
                for line in lines:
                    committed, seqs = line.split()
                    batches.append(([int(seq) for seq in seqs.split(",")], float(committed)))
                    append_end = max(append_end, float(committed))
        append_seconds = append_end - started
        appended = sum(len(seqs) for seqs, _ in batches)
        deadline = time.time() + 60
        while _last_observed(observed_path)[0] < appended and time.time() < deadline:
            time.sleep(0.05)
    finally:
        for process in appender_processes:
            if process.poll() is None:
                process.kill()
        observer.terminate()
        observer.wait(timeout=30)
        worker.terminate()
        worker.wait(timeout=30)
        log.close()
    observed = _read_observed(observed_path)
    at_end = max((size for size, at in observed if at <= started + append_seconds), default=0)
    drain = observed[-1][1] - started - append_seconds
    if observed[-1][0] < appended:
        raise RuntimeError(f"worker integrated {observed[-1][0]} of {appended}: see {log_path}")
    index_of = dict(EntryIndex.objects.values_list("entry_id", "index").iterator(chunk_size=50_000))
    signed = [
        (size, at.timestamp())
        for size, at in Checkpoint.objects.order_by("id").values_list("size", "created_at")
    ]
    sizes = [size for size, _ in observed]
    signed_sizes = [size for size, _ in signed]
    delays, signed_delays = [], []
    for seqs, committed in batches:
        for seq in seqs:
            position = bisect.bisect_right(sizes, index_of[seq])
            delays.append(observed[position][1] - committed)
            position = bisect.bisect_right(signed_sizes, index_of[seq])
            signed_delays.append(signed[position][1] - committed)
    signed_delays.sort()
    if os.environ.get("LEDGER_BENCH_DEBUG"):
        print("observed", [(size, round(at - started, 2)) for size, at in observed])
    delays.sort()
    result = {
        "seconds": append_seconds,
        "appended": appended,
        "append_rate": appended / append_seconds,
        "integrated_during_run": at_end,
        "integrated_rate": at_end / append_seconds,
        "drain_seconds": drain,
        "checkpoints": Checkpoint.objects.count() - 1,
        "p50": statistics.median(delays),
        "p99": delays[int(len(delays) * 0.99) - 1],
        "max": delays[-1],
        "signed_p99": signed_delays[int(len(signed_delays) * 0.99) - 1],
    }
    print(
        f"  sustained {append_seconds:.0f} s, {appenders} appender process(es), "
        f"ledger_append_many of {per_call} per transaction"
        f"{f' paced to {rate:,.0f}/s in all' if rate else ' flat out'}, `yiciban worker` "
        f"integrating: appended {appended:,} = {result['append_rate']:,.0f}/s; integrated under "
        f"signed checkpoints by the end {at_end:,} = {result['integrated_rate']:,.0f}/s "
        f"(backlog {appended - at_end:,}, drained {drain:.2f} s later); "
        f"{result['checkpoints']} checkpoints; append commit → covered by a checkpoint: "
        f"p50 {result['p50'] * 1000:.0f} ms, p99 {result['p99'] * 1000:.0f} ms, "
        f"max {result['max'] * 1000:.0f} ms (to the signing time: p99 "
        f"{result['signed_p99'] * 1000:.0f} ms)",
        flush=True,
    )
    return result


def append_loop(out_path: str, start_at: float, seconds: float, per_call: int, rate: float):
    """One appender process of the sustained run: from `start_at` for `seconds`, append
    `per_call` entries per transaction paced to `rate`/s (0: flat out); write one line per
    committed transaction: "<commit time> <seq>,<seq>,…"."""
    from yiciban.ledger.services import ledger_append_many

    pool = [
        {"kind": "case.event", "producer": "cases", "payload": payload(i)} for i in range(20_000)
    ]
    appended = 0
    with open(out_path, "w") as out:
        time.sleep(max(0.0, start_at - time.time()))
        while (now := time.time()) < start_at + seconds:
            if rate and appended > (now - start_at) * rate:
                time.sleep(0.001)
                continue
            offset = appended % len(pool)
            pending = ledger_append_many(entries=pool[offset : offset + per_call])  # commits
            committed = time.time()
            out.write(f"{committed} {','.join(str(p.seq) for p in pending)}\n")
            appended += len(pending)


def observe(path: str) -> None:
    """Poll the latest checkpoint every 10 ms; write "size time" whenever it grows."""
    from yiciban.ledger.models import Checkpoint

    last = -1
    with open(path, "w") as out:
        while True:
            size = Checkpoint.objects.order_by("-id").values_list("size", flat=True).first()
            if size is not None and size > last:
                out.write(f"{size} {time.time()}\n")
                out.flush()
                last = size
            time.sleep(0.01)


def _read_observed(path: str) -> list[tuple[int, float]]:
    with open(path) as lines:
        return [(int(size), float(at)) for size, at in (line.split() for line in lines)]


def _last_observed(path: str) -> tuple[int, float]:
    observed = _read_observed(path)
    return observed[-1] if observed else (0, 0.0)


def describe(connection) -> str:
    if connection.vendor == "sqlite":
        version = connection.Database.sqlite_version
    else:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
    return (
        f"{connection.vendor} {version} · Python {platform.python_version()} · "
        f"{platform.processor() or platform.machine()} · {os.cpu_count()} CPUs"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--sustained-seconds", type=float, default=60.0)
    parser.add_argument("--per-call", type=int, default=500, help="entries per transaction")
    parser.add_argument("--rate", type=float, default=0, help="pace appends (0: flat out)")
    parser.add_argument("--only-sustained", action="store_true")
    parser.add_argument(
        "--appenders", type=int, default=1, help="appender processes sharing --rate"
    )
    parser.add_argument("--observe", help=argparse.SUPPRESS)  # the observer process
    parser.add_argument("--append-into", help=argparse.SUPPRESS)  # an appender process
    parser.add_argument("--start-at", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.append_into:
        setup_django_only()
        append_loop(
            args.append_into, args.start_at, args.sustained_seconds, args.per_call, args.rate
        )
        return 0
    if args.observe:
        setup_django_only()
        observe(args.observe)
        return 0
    setup()
    from django.db import connection

    print(f"ledger_append on {describe(connection)}", flush=True)
    if not args.only_sustained:
        bench_appends(args.entries)
        bench_integration(args.entries)
    bench_sustained(args.sustained_seconds, args.per_call, args.rate, args.appenders)
    reset()
    return 0


if __name__ == "__main__":
    sys.exit(main())
