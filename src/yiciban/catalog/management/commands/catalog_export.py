"""yiciban catalog_export FILE [--format json|yaml|xlsx]

Writes the whole catalogue (every item and bundle with all versions) in the exchange
format; the format follows the file's extension unless given."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand

from yiciban.catalog import importexport


class Command(BaseCommand):
    help = "Export the service catalogue to a JSON, YAML or Excel file."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--format", choices=importexport.FORMATS)

    def handle(self, *args, **options):
        path = Path(options["file"])
        fmt = options["format"] or importexport.format_for(path.name)
        data = importexport.dumps(importexport.export_document(), fmt)
        path.write_bytes(data)
        self.stdout.write(f"{path}: {len(data)} bytes")
