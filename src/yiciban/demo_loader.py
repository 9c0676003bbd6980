"""Loads the demo data set from the repository's demo/ folder (see demo/README.md)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class LoadReport:
    created: dict[str, int] = field(default_factory=dict)
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # username, password, role

    def summary(self) -> str:
        lines = ["Demo data loaded:"]
        lines += [f"  {name}: {count} new" for name, count in self.created.items()]
        return "\n".join(lines)


def load() -> LoadReport:
    return LoadReport()
