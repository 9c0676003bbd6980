"""Demo archives: sharing rules between departments, and records that departments filed
about the Lanshan and Huarong enterprises. The events lie in 2025 and are recorded when the
demo loads, so the timeliness board shows them as late, as back-filled records are. Matched
by natural keys, so a second load creates nothing."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model

from yiciban.accounts.models import Enterprise
from yiciban.org.selectors import department_by_kind

from . import services
from .models import ArchiveRecord, SharingRule

# (viewer department kind, record kind or "" for all)
RULES = [
    ("administrative_approval", ""),
    ("government_service", ""),
    ("market_regulation", "inspection"),
    ("market_regulation", "penalty"),
    ("ecology_environment", "inspection"),
    ("tax", "credit"),
    ("health", "inspection"),
]

# (USCC, department region, department kind, record kind, event date, summary)
RECORDS = [
    (
        "91431127MA4LQ7T25H",
        "431127",
        "market_regulation",
        "annual_report",
        dt.date(2025, 6, 3),
        "2024年度报告已公示",
    ),
    (
        "91431127MA4LQ7T25H",
        "431127",
        "ecology_environment",
        "inspection",
        dt.date(2025, 9, 12),
        "喷漆废气排放检查：达标",
    ),
    (
        "91430623MA4PK2N83B",
        "430623",
        "market_regulation",
        "inspection",
        dt.date(2025, 10, 20),
        "食品生产监督检查：符合要求",
    ),
]


def load(report) -> None:
    admin = get_user_model().objects.get(username="admin")
    for viewer_kind, record_kind in RULES:
        exists = SharingRule.objects.filter(
            viewer_department_kind=viewer_kind, record_kind=record_kind
        ).exists()
        report.count("sharing rules", not exists)
        if not exists:
            services.sharing_rule_create(
                actor=admin, viewer_department_kind=viewer_kind, record_kind=record_kind
            )
    for uscc, region, department_kind, kind, event_date, summary in RECORDS:
        enterprise = Enterprise.objects.filter(uscc=uscc).first()
        if enterprise is None:
            continue
        archive = services.archive_open(enterprise=enterprise)
        department = department_by_kind(region, department_kind)
        exists = ArchiveRecord.objects.filter(
            archive=archive, kind=kind, department=department, event_date=event_date
        ).exists()
        report.count("archive records", not exists)
        if not exists:
            services.archive_record_add(
                actor=admin,
                archive=archive,
                kind=kind,
                department=department,
                event_date=event_date,
                summary=summary,
            )
