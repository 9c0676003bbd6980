"""Ledger at scale: build a log of N entries (default 1,000,000) through the real append and
integration path, then measure storage per entry, inclusion and consistency proof times
(served from tiles, database reads included) and a full audit (docs/benchmarks.md).

Use a scratch database: the ledger tables are emptied first.

Run:
  YICIBAN_INSTANCE_DIR=/tmp/bench DATABASE_URL=sqlite:////tmp/bench/ledger.sqlite3 \\
    .venv/bin/python bench/ledger_proofs.py --size 1000000
  YICIBAN_INSTANCE_DIR=/tmp/bench DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench \\
    .venv/bin/python bench/ledger_proofs.py --size 1000000
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ledger_append import describe, payload, reset, setup

CHUNK = 10_000


def build(size: int) -> float:
    from yiciban.ledger.services import ledger_append_many, ledger_integrate

    started = time.perf_counter()
    for start in range(0, size, CHUNK):
        ledger_append_many(
            entries=[
                {"kind": "case.event", "producer": "cases", "payload": payload(i)}
                for i in range(start, min(size, start + CHUNK))
            ]
        )
        ledger_integrate()
        if start and start % 100_000 == 0:
            elapsed = time.perf_counter() - started
            print(f"    {start:,} entries in {elapsed:.0f} s", flush=True)
    return time.perf_counter() - started


def storage_bytes() -> dict[str, int]:
    from django.db import connection

    tables = ["ledger_entry", "ledger_entryindex", "ledger_tile", "ledger_checkpoint"]
    sizes = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in tables:
                cursor.execute("SELECT pg_total_relation_size(%s)", [table])
                sizes[table] = cursor.fetchone()[0]
        else:
            cursor.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")
            per_object = dict(cursor.fetchall())
            cursor.execute(
                "SELECT name, tbl_name FROM sqlite_master WHERE tbl_name IN (%s, %s, %s, %s)",
                tables,
            )
            for name, table in cursor.fetchall():
                sizes[table] = sizes.get(table, 0) + per_object.get(name, 0)
    return sizes


def timings(label: str, function, runs: int, indent: str = "  ") -> None:
    values = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        values.append(time.perf_counter() - started)
    values.sort()
    print(
        f"{indent}{label}: median {statistics.median(values) * 1000:.2f} ms, "
        f"p99 {values[int(len(values) * 0.99) - 1] * 1000:.2f} ms ({runs} runs)"
    )


def _import_pymerkle(venv: str | None):
    """pymerkle is GPL: never a project dependency. It is imported from a separate venv
    (e.g. /tmp/h4-pymerkle, `pip install pymerkle`) given with --pymerkle-venv."""
    try:
        import pymerkle
    except ImportError:
        if not venv:
            return None
        import glob

        sys.path.extend(glob.glob(f"{venv}/lib/python3*/site-packages"))
        try:
            import pymerkle
        except ImportError:
            return None
    return pymerkle


def compare_pymerkle(pymerkle, size: int, runs: int, workdir: str) -> None:
    """The same leaves (the log's first `size` entries), appended to pymerkle's SqliteTree
    (with yiciban's SQLite settings: WAL, synchronous=NORMAL) and InmemoryTree, then the same
    proofs. pymerkle with security on hashes like RFC 6962, so the roots must agree."""
    import os

    from django.db import connection

    from yiciban.ledger import merkle, selectors
    from yiciban.ledger.models import entry_leaf, entry_time_from_db, entry_time_sql

    vendor = connection.vendor
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT kind, producer, {entry_time_sql(vendor)}, payload_sha256 "
            f"FROM ledger_entryindex i JOIN ledger_entry e ON e.seq = i.seq "
            f"WHERE i.log_index < %s ORDER BY i.log_index",
            [size],
        )
        rows = [(k, p, entry_time_from_db(vendor, t), d) for k, p, t, d in cursor.fetchall()]
    leaves = [entry_leaf(kind=k, producer=p, time=t, payload_sha256=d) for k, p, t, d in rows]
    ours = selectors.root_at(size)
    print(f"  pymerkle {pymerkle.__version__} side by side, the same {size:,} leaves:")
    rng = random.Random(9162)

    def our_inclusion():
        index = rng.randrange(size)
        proof = selectors.inclusion_proof(index=index, tree_size=size)
        merkle.verify_inclusion(index, size, merkle.leaf_hash(leaves[index]), proof.hashes, ours)

    def our_consistency():
        selectors.consistency_proof(first=rng.randrange(1, size), second=size)

    timings("yiciban inclusion proof (+ verify)", our_inclusion, runs, indent="    ")
    timings("yiciban consistency proof", our_consistency, runs, indent="    ")

    path = os.path.join(workdir, "pymerkle-bench.sqlite3")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    trees = {"InmemoryTree": pymerkle.InmemoryTree(algorithm="sha256")}
    sqlite_tree = pymerkle.SqliteTree(path, algorithm="sha256")
    sqlite_tree.con.execute("PRAGMA journal_mode=WAL")
    sqlite_tree.con.execute("PRAGMA synchronous=NORMAL")
    trees["SqliteTree"] = sqlite_tree
    for name, tree in trees.items():
        started = time.perf_counter()
        tree.append_entries(leaves)
        seconds = time.perf_counter() - started
        root = tree.get_root(size)
        assert root == ours, f"pymerkle {name} root differs"
        print(
            f"    {name}: append {size / seconds:,.0f} entries/s ({seconds:.1f} s, "
            f"root equals yiciban's)"
        )
        rng = random.Random(9162)

        def inclusion(tree=tree, rng=rng, root=root):
            index = rng.randrange(size)
            proof = tree.prove_inclusion(index + 1, size)
            pymerkle.verify_inclusion(merkle.leaf_hash(leaves[index]), root, proof)

        def consistency(tree=tree, rng=rng):
            tree.prove_consistency(rng.randrange(1, size), size)

        timings(f"{name} inclusion proof (+ verify)", inclusion, runs, indent="    ")
        timings(f"{name} consistency proof", consistency, runs, indent="    ")
    sqlite_tree.close()
    print(f"    SqliteTree file: {os.path.getsize(path) / size:.0f} bytes/entry")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--keep", action="store_true", help="reuse an existing log of --size")
    parser.add_argument("--build-only", action="store_true", help="stop after building the log")
    parser.add_argument("--no-audit", action="store_true", help="skip the full verify")
    parser.add_argument(
        "--pymerkle-venv", help="venv holding pymerkle (GPL, bench only), e.g. /tmp/h4-pymerkle"
    )
    parser.add_argument(
        "--pymerkle-size", type=int, default=1_000_000, help="leaves given to pymerkle"
    )
    args = parser.parse_args()
    setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from yiciban.ledger import merkle, selectors
    from yiciban.ledger.auditor import audit_log
    from yiciban.ledger.models import LogState

    print(f"ledger_proofs on {describe(connection)}")
    state = LogState.objects.filter(pk=1).first()
    if not (args.keep and state and state.size == args.size):
        reset()
        seconds = build(args.size)
        print(
            f"  build {args.size:,} entries (append_many + integrate, {CHUNK:,} per batch): "
            f"{seconds:.1f} s = {args.size / seconds:,.0f} entries/s"
        )
    if args.build_only:
        return 0
    size = args.size
    sizes = storage_bytes()
    total = sum(sizes.values())
    print(
        f"  storage: {total / size:.0f} bytes/entry in total "
        + ", ".join(f"{table} {value / size:.0f}" for table, value in sizes.items())
    )

    rng = random.Random(6962)
    root = selectors.root_at(size)

    def inclusion():
        index = rng.randrange(size)
        proof = selectors.inclusion_proof(index=index, tree_size=size)
        merkle.verify_inclusion(index, size, proof.leaf_hash, proof.hashes, root)

    def consistency():
        first = rng.randrange(1, size)
        proof = selectors.consistency_proof(first=first, second=size)
        assert proof.hashes

    def entry():
        selectors.entry_at(rng.randrange(size))

    with CaptureQueriesContext(connection) as queries:
        selectors.inclusion_proof(index=size // 3, tree_size=size)
    print(f"  one inclusion proof = {len(queries)} queries (checkpoint + tiles)")
    timings("inclusion proof (+ client-side verify)", inclusion, args.runs)
    timings("consistency proof", consistency, args.runs)
    timings("entry by index", entry, args.runs)

    pymerkle = _import_pymerkle(args.pymerkle_venv)
    if pymerkle is None:
        print("  pymerkle not installed (GPL, bench only; see --pymerkle-venv): no comparison")
    else:
        compare_pymerkle(
            pymerkle, min(size, args.pymerkle_size), args.runs, str(settings.INSTANCE_DIR)
        )
    if args.no_audit:
        return 0
    started = time.perf_counter()
    report = audit_log()
    seconds = time.perf_counter() - started
    assert report.ok, report.divergence
    print(
        f"  full audit ({report.entries:,} entries, {report.tiles:,} tiles, "
        f"{report.checkpoints} checkpoints): {seconds:.1f} s = {size / seconds:,.0f} entries/s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
