"""Loads the demo data set from the repository's demo/ folder (see demo/README.md).

Each app that has demo data exposes `demo.load(report)`; they run in layer order inside one
transaction, and each is idempotent (get-or-create by natural key), so `yiciban setup --demo`
twice changes nothing."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction

from yiciban.core import context

# Layer order: an app's demo may use what the apps before it loaded.
DEMO_MODULES = [
    "yiciban.org.demo",
    "yiciban.accounts.demo",
    "yiciban.catalog.demo",
    "yiciban.sharing.demo",
    "yiciban.licences.demo",
    "yiciban.archive.demo",
    "yiciban.cases.demo",
    "yiciban.openness.demo",
    "yiciban.hotline.demo",
    "yiciban.housing.demo",
]


def demo_dir() -> Path:
    return Path(getattr(settings, "YICIBAN_DEMO_DIR", settings.REPO_DIR / "demo"))


@dataclass
class LoadReport:
    # where the YAML/JSON files are; demo modules read it from here rather than importing
    # this (layer 7) module
    directory: Path = field(default_factory=demo_dir)
    created: dict[str, int] = field(default_factory=dict)
    # (username, password, role label, scope label) — printed by `make run`
    logins: list[tuple[str, str, str, str]] = field(default_factory=list)

    def count(self, name: str, created: bool = True) -> None:
        self.created[name] = self.created.get(name, 0) + (1 if created else 0)

    def summary(self) -> str:
        lines = ["Demo data loaded (new rows this run):"]
        lines += [f"  {name}: {count}" for name, count in self.created.items()]
        if self.logins:
            lines.append("Demo logins (username / password — role, scope):")
            lines += [f"  {u} / {p} — {r}, {s}" for u, p, r, s in self.logins]
        return "\n".join(lines)


def load() -> LoadReport:
    report = LoadReport()
    # one request id for every audit event of this load, so the trail shows them as one act
    with context.bound(context.with_channel("cli")), transaction.atomic():
        for module_name in DEMO_MODULES:
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name != module_name:
                    raise
                continue  # that app has no demo data (yet)
            module.load(report)
    return report
