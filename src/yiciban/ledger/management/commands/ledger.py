"""`yiciban ledger verify|integrate`: the ledger's operator commands under one name.

yiciban ledger verify [--progress]   re-verify the whole log (same as `ledger_audit`): exit
                                     status 1 and the first divergence if anything was altered
yiciban ledger integrate             integrate pending entries now (same as `ledger_integrate`)
"""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Ledger operations: verify (re-verify the whole log), integrate (pending entries)."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        verify = actions.add_parser("verify", help="re-verify the whole log")
        verify.add_argument("--progress", action="store_true", help="print progress to stderr")
        actions.add_parser("integrate", help="integrate pending entries now")

    def handle(self, *args, action, **options):
        streams = {"stdout": self.stdout._out, "stderr": self.stderr._out}
        if action == "verify":
            call_command("ledger_audit", progress=options.get("progress", False), **streams)
        else:
            call_command("ledger_integrate", **streams)
