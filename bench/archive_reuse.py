"""What a returning enterprise is actually asked for, against a new one (一企一档 reuse): for
each enterprise bundle of the demo, the required materials left to submit and the form
fields left to fill, as guidance computes them through the archive's reuse hook
(catalog.reuse ← archive.reuse) — first for an enterprise the platform knows nothing about,
then for a demo enterprise that holds licences and archive records. Read-only.

    YICIBAN_INSTANCE_DIR=/tmp/inst-bench DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/archive_reuse.py

"New" is an enterprise whose archive holds nothing (its code is not in the demo);
"returning" is the demo enterprise of the bundle's county with its business licence and
permits (demo/applicants.yaml, licences.demo), measured twice: as the demo holds it, and
after a counter clerk has filed the originals it showed at its first application (the
materials of its registration, less the application form and signed commitments, which
belong to one case) into its archive as
counter-checked documents — through archive_document_add, in a transaction that is rolled
back, so the database is left as it was. Answers make every optional item of the bundle
applicable, so each figure is the largest case."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

# bundle → (answers making everything applicable, returning enterprise's USCC)
SCENARIOS = {
    "huarong-restaurant": (
        {
            "dine_in": True,
            "seats": 80,
            "floor_area_m2": 160,
            "sells_alcohol": True,
            "sells_tobacco": True,
            "signboard": True,
            "cooking_fumes": True,
        },
        "91430623MA4PK2N83B",
    ),
    "lanshan-one-licence": (None, "91431127MA4LQ7T25H"),  # answers from bench/catalog_http.py
}
NEW_USCC = "91430623MA4BENCH01"  # not in the demo: an enterprise the archive knows nothing of


def main() -> int:
    if "DATABASE_URL" not in os.environ:
        raise SystemExit("set DATABASE_URL (and YICIBAN_INSTANCE_DIR) to the demo database")
    os.environ["DJANGO_SETTINGS_MODULE"] = "yiciban.settings"
    import django

    django.setup()
    from django.db import transaction

    sys.path.insert(0, str(ROOT / "bench"))
    from catalog_http import ALL_25

    from yiciban.accounts.models import Enterprise
    from yiciban.catalog import selectors
    from yiciban.catalog.reuse import ArchiveSubject
    from yiciban.licences.selectors import licences_of_enterprise

    print(
        f"{'bundle':<22} {'applicant':<10} {'materials':>9} {'to submit':>9} "
        f"{'fields':>6} {'to fill':>7}  reused"
    )
    for code, (answers, uscc) in SCENARIOS.items():
        answers = answers or ALL_25
        enterprise = Enterprise.objects.filter(uscc=uscc).first()
        if enterprise is None:
            raise SystemExit(f"demo enterprise {uscc} missing: run `yiciban setup --demo`")
        held = [lic.licence_type.name for lic in licences_of_enterprise(enterprise)]
        returning = ArchiveSubject(kind="enterprise", identifier=uscc)
        row(
            code,
            "new",
            selectors.bundle_guidance(
                code, answers, subject=ArchiveSubject(kind="enterprise", identifier=NEW_USCC)
            ),
        )
        row(code, "returning", selectors.bundle_guidance(code, answers, subject=returning))
        print(f"{'':<22} returning enterprise holds: {'、'.join(held)}")
        try:
            with transaction.atomic():
                filed = file_first_application(enterprise, code)
                row(code, "returning+", selectors.bundle_guidance(code, answers, subject=returning))
                print(f"{'':<22} filed at the first application: {'、'.join(filed)}")
                raise Rollback
        except Rollback:
            pass
    return 0


class Rollback(Exception):
    pass


def row(code: str, label: str, result: dict) -> None:
    materials = result["notice"]["materials"]
    required = [m for m in materials if m["requirement"] == "required"]
    to_submit = [m for m in required if m["submit"]]
    reused = [m["name"] for m in materials if m.get("reusable")]
    fields = result["reduction"]["fields_bundle"]
    to_fill = fields - len(result["prefill"])
    print(
        f"{code:<22} {label:<10} {len(required):>9} {len(to_submit):>9} "
        f"{fields:>6} {to_fill:>7}  {'、'.join(reused) or '—'}"
    )


def file_first_application(enterprise, bundle_code: str) -> list[str]:
    """The originals a counter clerk saw at the enterprise's first application — the
    materials of the bundle's base item (its registration) except per-case ones —
    filed in its archive as counter-checked documents."""
    from django.contrib.auth import get_user_model

    from yiciban.archive import services as archive_services
    from yiciban.archive.models import Origin
    from yiciban.catalog import selectors

    admin = get_user_model().objects.get(username="admin")
    archive = archive_services.archive_open(enterprise=enterprise)
    compiled = selectors.compiled_bundle(bundle_code)
    base = compiled.members[compiled.base_index]
    filed = []
    for need in base.materials:
        if need.kind.endswith(".application") or "commitment" in need.kind:
            continue  # an application form and a signed commitment belong to one case
        archive_services.archive_document_add(
            actor=admin,
            archive=archive,
            content=b"%PDF-1.7\n% " + need.kind.encode() + b"\n%%EOF\n",
            filename=f"{need.kind}.pdf",
            title=need.name[:120],
            origin=Origin.COUNTER_CHECKED,
            material_kind=need.kind,
        )
        filed.append(need.name)
    return filed


if __name__ == "__main__":
    sys.exit(main())
