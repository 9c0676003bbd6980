"""In-process benchmark of smart guidance for the Lanshan 1+X bundle with all 25 optional
items applicable (SPEC §2; target: median under 2 ms).

    .venv/bin/python bench/catalog_guidance.py [--runs 2000] [--keep-db]

Builds a scratch SQLite database in a temporary instance folder (or uses DATABASE_URL when
set), loads the demo organisation and catalogue, and times, each over --runs calls:

  selector   selectors.bundle_guidance(): revision check (one query) + evaluation, as the
             API calls it, with the compiled bundle and its memo warm
  json       selectors.bundle_guidance_json(): the same, encoded to the JSON the API sends
             (shared parts encoded once per set of applicable items)
  evaluate   guidance.evaluate() on the compiled bundle: answer checks, visibility rules,
             26 JsonLogic rules, reasons; notice/merged schema/limit/reduction memoised
  cold       guidance.evaluate() with the memo cleared before every call, so the notice,
             merged schema, longest path and reduction are built from scratch each time
  compile    compiling the published bundle version from the database (happens once per
             process, catalogue revision and day)

Reports median, 95th percentile and mean in milliseconds, with the machine's CPU."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

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
    "floor_area_m2": 800,
    "hazardous_chemicals": True,
}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def timed(function, runs: int, before=None) -> list[float]:
    samples = []
    for _ in range(runs):
        if before is not None:
            before()
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def summary(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return (
        f"{name:<9} median {statistics.median(samples):7.3f} ms   p95 {p95:7.3f} ms   "
        f"mean {statistics.fmean(samples):7.3f} ms   runs {len(samples)}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--keep-db", action="store_true", help="do not delete the scratch folder")
    args = parser.parse_args()

    scratch = None
    if "DATABASE_URL" not in os.environ:
        scratch = tempfile.mkdtemp(prefix="yiciban-bench-")
        os.environ["YICIBAN_INSTANCE_DIR"] = scratch
        os.environ["DATABASE_URL"] = f"sqlite:///{scratch}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiciban.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from yiciban.catalog import guidance, selectors
    from yiciban.catalog.models import Bundle
    from yiciban.demo_loader import LoadReport

    call_command("migrate", interactive=False, verbosity=0)
    if not Bundle.objects.filter(code="lanshan-one-licence").exists():
        report = LoadReport()
        with transaction.atomic():
            for name in ("yiciban.org.demo", "yiciban.accounts.demo", "yiciban.catalog.demo"):
                __import__(name, fromlist=["load"]).load(report)

    code = "lanshan-one-licence"
    compiled = selectors.compiled_bundle(code)
    result = selectors.bundle_guidance(code, ALL_25)
    assert len(result["items"]) == 26, "all 25 optional items and the base must apply"
    version = selectors.bundle_detail(code)

    print(f"python {platform.python_version()} · {connection.vendor} · nproc {os.cpu_count()}")
    print(f"cpu: {cpu_model()}")
    print(
        f"bundle {code}: {len(compiled.members)} members, {len(compiled.questions)} questions; "
        f"result: {len(result['items'])} items, "
        f"{len(result['notice']['materials'])} notice materials, "
        f"{result['reduction']['fields_bundle']} merged fields"
    )
    rounds = [
        ("selector", timed(lambda: selectors.bundle_guidance(code, ALL_25), args.runs)),
        ("json", timed(lambda: selectors.bundle_guidance_json(code, ALL_25), args.runs)),
        ("evaluate", timed(lambda: guidance.evaluate(compiled, ALL_25), args.runs)),
        (
            "cold",
            timed(lambda: guidance.evaluate(compiled, ALL_25), args.runs, before=compiled.forget),
        ),
        (
            "compile",
            timed(
                lambda: selectors.compile_bundle(version, today=compiled.day, revision=0),
                max(20, args.runs // 20),
            ),
        ),
    ]
    for name, samples in rounds:
        print(summary(name, samples))
    if scratch and not args.keep_db:
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)
    elif scratch:
        print(f"scratch instance kept in {scratch}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
