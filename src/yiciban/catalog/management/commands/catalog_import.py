"""yiciban catalog_import FILE [--format json|yaml|xlsx] [--actor USERNAME]

Imports a catalogue file completely or not at all; on error prints every problem with its
sheet/row/column or JSON path and the rule broken, and exits with status 1."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from yiciban.catalog import importexport, services
from yiciban.core.errors import DomainError


class Command(BaseCommand):
    help = "Import a service catalogue file (JSON, YAML or Excel)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--format", choices=importexport.FORMATS)
        parser.add_argument(
            "--actor", help="username recorded as the importer (default: the system)"
        )

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        actor = None
        if options["actor"]:
            actor = get_user_model().objects.filter(username=options["actor"]).first()
            if actor is None:
                raise CommandError(f"no such user: {options['actor']}")
        try:
            fmt = options["format"] or importexport.format_for(path.name)
            counts = services.catalog_import(actor=actor, data=path.read_bytes(), fmt=fmt)
        except DomainError as exc:
            for error in exc.errors:
                self.stderr.write(f"{error.field}\t{error.rule}\t{error.message}")
            raise CommandError(str(exc)) from None
        for key, value in sorted(counts.items()):
            self.stdout.write(f"{key}: {value}")
