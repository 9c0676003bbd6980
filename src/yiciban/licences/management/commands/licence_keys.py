"""`yiciban licence_keys list|rotate`: the e-licence signing keys of this instance.

yiciban licence_keys list                         department, algorithm, current and retired key ids
yiciban licence_keys rotate <USCC> --actor NAME   new key for that department; licences signed
                                                  before keep verifying (old public key stays in
                                                  the JWKS); NAME must be a platform admin
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from yiciban.core.errors import DomainError
from yiciban.licences import services
from yiciban.org.models import Department


class Command(BaseCommand):
    help = "E-licence signing keys: list them, or rotate one department's key."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        actions.add_parser("list", help="every licence-signing key")
        rotate = actions.add_parser("rotate", help="a new key for one department")
        rotate.add_argument("uscc", help="the department's unified social credit code")
        rotate.add_argument("--actor", required=True, help="username of a platform admin")

    def handle(self, *args, action, **options):
        if action == "list":
            for row in services.signing_keys_overview():
                retired = ", ".join(row["retired"]) or "-"
                self.stdout.write(
                    f"{row['department_uscc'] or '?':<18} {row['algorithm']:<7} "
                    f"current {row['current']}  retired {retired}  {row['department']}"
                )
            return
        department = Department.objects.filter(uscc=options["uscc"].strip().upper()).first()
        if department is None:
            raise CommandError(f"no department with USCC {options['uscc']!r}")
        actor = get_user_model().objects.filter(username=options["actor"]).first()
        if actor is None:
            raise CommandError(f"no user {options['actor']!r}")
        try:
            signer = services.signing_key_rotate(actor=actor, department=department)
        except DomainError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"{department.name}: new key {signer.public_key.key_id}")
