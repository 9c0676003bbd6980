"""`yiciban ledger_audit`: re-verify the whole log from its entries; exit status 1 and the
first divergence (entry index and what differs) if anything was altered."""

from __future__ import annotations

import base64
import time

from django.core.management.base import BaseCommand, CommandError

from yiciban.ledger.auditor import audit_log


class Command(BaseCommand):
    help = "Re-verify the ledger: payload and leaf hashes, every tile, every checkpoint."

    def add_arguments(self, parser):
        parser.add_argument("--progress", action="store_true", help="print progress to stderr")

    def handle(self, *args, progress=False, **options):
        started = time.perf_counter()

        def report_progress(done: int, total: int) -> None:
            self.stderr.write(f"  {done}/{total} entries")

        report = audit_log(progress=report_progress if progress else None)
        elapsed = time.perf_counter() - started
        if report.divergence is not None:
            raise CommandError(
                f"FIRST DIVERGENCE — {report.divergence} "
                f"(verified before it: {report.entries} entries, {report.checkpoints} checkpoints)"
            )
        self.stdout.write(
            f"ledger OK: size {report.size}, root {base64.b64encode(report.root_hash).decode()}, "
            f"{report.entries} entries, {report.tiles} tiles, {report.checkpoints} checkpoints "
            f"verified, {report.pending} pending, in {elapsed:.2f} s"
        )
