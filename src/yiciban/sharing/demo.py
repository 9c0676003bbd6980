"""Demo data of data sharing: the 46 shared data categories (demo/sharing/categories.yaml)
and the grants that 津市市's house delivery with title needs — the tax bureau lets the
housing bureau and the registration office read deed-tax payments, the housing bureau lets
the registration office read filed sale contracts. Idempotent: categories by code, grants by
(category, grantor, grantee) while one is in force."""

from __future__ import annotations

import datetime as dt

import yaml
from django.contrib.auth import get_user_model
from django.utils import timezone

from yiciban.org.selectors import department_by_kind

from . import services
from .models import Grant

JINSHI = "430781000000"

# (category, grantor kind, grantee kind, purpose)
GRANTS = [
    (
        "tax_payment",
        "tax",
        "housing_construction",
        "竣工验收备案前核验购房人契税缴纳（交房即交证）",
    ),
    ("tax_payment", "tax", "natural_resources", "不动产转移登记核验契税完税（交房即交证）"),
    (
        "contract_filing",
        "housing_construction",
        "natural_resources",
        "不动产转移登记核验商品房买卖合同备案（交房即交证）",
    ),
    ("survey_report", "natural_resources", "housing_construction", "竣工验收备案核验实测面积"),
]


def load(report) -> None:
    data = yaml.safe_load((report.directory / "sharing" / "categories.yaml").read_text("utf-8"))
    for entry in data["categories"]:
        _category, created = services.category_ensure(
            code=entry["code"],
            name=entry["name"],
            owner_kind=entry["owner"],
            subject_kind=entry["subject"],
            description=entry.get("description", ""),
        )
        report.count("sharing categories", created)
    admin = get_user_model().objects.get(username="admin")
    today = timezone.localdate()
    for category, grantor_kind, grantee_kind, purpose in GRANTS:
        grantor = department_by_kind(JINSHI, grantor_kind)
        grantee = department_by_kind(JINSHI, grantee_kind)
        exists = Grant.objects.filter(
            category__code=category,
            grantor=grantor,
            grantee=grantee,
            revoked_at__isnull=True,
            valid_until__gte=today,
        ).exists()
        if not exists:
            services.grant_create(
                actor=admin,
                category_code=category,
                grantor=grantor,
                grantee=grantee,
                purpose=purpose,
                valid_from=today,
                valid_until=today.replace(year=today.year + 3) - dt.timedelta(days=1)
                if not (today.month == 2 and today.day == 29)
                else today + dt.timedelta(days=3 * 365),
            )
        report.count("sharing grants", not exists)
