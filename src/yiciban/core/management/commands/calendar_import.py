"""yiciban calendar_import --year 2027            (from the installed chinesecalendar)
yiciban calendar_import --file notice-2027.json (an admin's transcription of the notice)

One year per run, all or nothing. A year that already has days is replaced only with
--replace. --as USERNAME records who ran it in the audit trail."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from yiciban.core import calendar, services
from yiciban.core.context import RequestContext, bound
from yiciban.core.errors import DomainError


class Command(BaseCommand):
    help = "Import one year of the working-day calendar (holidays and 调休 make-up working days)."

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--year", type=int, help="take this year from chinesecalendar")
        source.add_argument("--file", type=Path, help="JSON schedule (see core.calendar)")
        parser.add_argument(
            "--replace", action="store_true", help="replace the days the year already has"
        )
        parser.add_argument("--as", dest="actor", metavar="USERNAME", help="acting user")

    def handle(self, *args, year=None, file=None, replace=False, actor=None, **options):
        user = self._actor(actor)
        # One request id for the run, so its audit events read as one operation.
        with bound(RequestContext(request_id=uuid.uuid4().hex, channel="cli")):
            try:
                if file is not None:
                    schedule = calendar.schedule_from_json(self._read(file))
                    saved = services.calendar_year_import(
                        actor=user, schedule=schedule, replace=replace
                    )
                else:
                    saved = services.calendar_year_import_from_package(
                        actor=user, year=year, replace=replace
                    )
            except DomainError as exc:
                lines = [str(exc)]
                if len(exc.errors) > 1 or (exc.errors and exc.errors[0].message != str(exc)):
                    lines += [f"  {e.field}: {e.message}" for e in exc.errors]
                if exc.code == "calendar_year_exists":
                    lines.append("  (run again with --replace to overwrite that year)")
                raise CommandError("\n".join(lines)) from None
        days = saved.days.count()
        state = "official" if saved.official else "not official (answers stay provisional)"
        self.stdout.write(f"{saved.year}: {days} days imported, {state}; source: {saved.source}")

    def _actor(self, username):
        if not username:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        return user

    def _read(self, path: Path):
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        except json.JSONDecodeError as exc:
            raise CommandError(
                f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
            ) from None
