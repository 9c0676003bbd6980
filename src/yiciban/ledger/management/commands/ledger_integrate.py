"""`yiciban ledger_integrate`: integrate pending entries now and sign a checkpoint (what the
background task does; useful for operators and after restoring a backup)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from yiciban.ledger.services import LedgerRefused, ledger_integrate


class Command(BaseCommand):
    help = "Integrate pending ledger entries and sign a checkpoint."

    def handle(self, *args, **options):
        try:
            result = ledger_integrate()
        except LedgerRefused as exc:
            raise CommandError(f"integration refused ({exc.code}): {exc.message}") from exc
        self.stdout.write(
            f"integrated {result.integrated} entries: size {result.size_before} → "
            f"{result.size_after}, {result.checkpoints} checkpoint(s) signed"
        )
