"""Ledger append and integration benchmark (docs/benchmarks.md).

Measures, on the database of DATABASE_URL (use a scratch database: the ledger tables are
emptied first):

1. append throughput — one entry per transaction (an app writing one record), 100 entries
   per transaction (a service writing several), and bulk `ledger_append_many`;
2. integration time of a batch of N pending entries (indices, tiles, consistency check,
   signed checkpoint: one transaction);
3. integration delay under sustained load: one thread appends one entry per transaction as
   fast as it can while an integrator polls like the task worker; the delay of an entry is
   the time from its append to the commit of the first checkpoint that covers it.

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
import threading
import time


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiciban.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def reset() -> None:
    from django.db import connection
    from django_tasks_db.models import DBTaskResult

    with connection.cursor() as cursor:
        for table in ("ledger_entry", "ledger_tile", "ledger_checkpoint", "ledger_logstate"):
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


def bench_delay(seconds: float, poll: float) -> None:
    from django.db import connection, transaction

    from yiciban.ledger.models import Checkpoint, Entry
    from yiciban.ledger.services import ledger_append, ledger_integrate

    reset()
    ledger_integrate()
    stop = threading.Event()
    stamps: dict[int, float] = {}  # seq → time.time() at commit
    covered: list[tuple[int, float]] = []  # (checkpoint size, time.time() at commit)

    def appender() -> None:
        i = 0
        try:
            while not stop.is_set():
                with transaction.atomic():
                    pending = ledger_append(kind="case.event", producer="cases", payload=payload(i))
                stamps[pending.seq] = time.time()
                i += 1
        finally:
            connection.close()

    def integrator() -> None:
        try:
            while not stop.is_set():
                result = ledger_integrate()
                if result.integrated:
                    covered.append((result.size_after, time.time()))
                time.sleep(poll)
        finally:
            connection.close()

    threads = [threading.Thread(target=appender), threading.Thread(target=integrator)]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    indices = dict(Entry.objects.filter(index__isnull=False).values_list("seq", "index"))
    delays = []
    position = 0
    for seq, index in sorted(indices.items(), key=lambda item: item[1]):
        while covered[position][0] <= index:
            position += 1
        if seq in stamps:
            delays.append(covered[position][1] - stamps[seq])
    delays.sort()
    p50 = statistics.median(delays)
    p99 = delays[int(len(delays) * 0.99) - 1]
    print(
        f"  sustained {len(stamps) / seconds:,.0f} appends/s (1 per transaction) with an "
        f"integrator polling every {poll * 1000:.0f} ms: {Checkpoint.objects.count() - 1} "
        f"checkpoints; delay p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
        f"max {delays[-1] * 1000:.0f} ms"
    )


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
    parser.add_argument("--delay-seconds", type=float, default=10.0)
    parser.add_argument("--poll", type=float, default=0.2, help="integrator polling interval")
    args = parser.parse_args()
    setup()
    from django.db import connection

    print(f"ledger_append on {describe(connection)}")
    bench_appends(args.entries)
    bench_integration(args.entries)
    bench_delay(args.delay_seconds, args.poll)
    reset()
    return 0


if __name__ == "__main__":
    sys.exit(main())
