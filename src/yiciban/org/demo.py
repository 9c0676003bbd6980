"""Demo organisation (demo/regions.yaml, departments.yaml, service_points.yaml, staff.yaml):
Hunan, the seven places of the bulletin, 华容县's townships and villages, one department of
every kind per place, service points of every kind, and one staff login per role.

Everything is written through the org services (validated and audited, as the demo
administrator), and only what is missing is written: rows are matched by their natural keys
(region code, region + department kind, point code, username, user + role + scope), so a
second load creates nothing."""

from __future__ import annotations

from pathlib import Path

import yaml
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils.translation import gettext as _

from yiciban.core import audit
from yiciban.core.identifiers import make_uscc

from . import services
from .models import (
    Department,
    DepartmentKind,
    PointKind,
    Region,
    RegionLevel,
    Role,
    RoleAssignment,
    ServicePoint,
)


def read_yaml(report, name: str) -> dict:
    with Path(report.directory, name).open(encoding="utf-8") as stream:
        return yaml.safe_load(stream)


def load(report) -> None:
    regions = read_yaml(report, "regions.yaml")
    staff = read_yaml(report, "staff.yaml")
    admin = ensure_demo_user(report, staff["staff"][0], staff["password"], actor=None)
    _load_regions(report, admin, regions)
    _load_departments(report, admin, regions, read_yaml(report, "departments.yaml"))
    _load_service_points(report, admin, regions, read_yaml(report, "service_points.yaml"))
    _load_staff(report, admin, staff)


# --- users ----------------------------------------------------------------------------

_password_hashes: dict[str, str] = {}


def demo_password_hash(password: str) -> str:
    """One hash per demo password and process: every demo login shares the published
    password, so hashing it a dozen times (PBKDF2, ~0.3 s each) would only slow the load."""
    if password not in _password_hashes:
        _password_hashes[password] = make_password(password)
    return _password_hashes[password]


def ensure_demo_user(report, entry: dict, password: str, *, actor, staff: bool = True):
    """The demo login named in `entry`, created (with the demo password) if missing. An
    existing login is left exactly as it is — its password may have been changed."""
    user_model = get_user_model()
    user = user_model.objects.filter(username=entry["username"]).first()
    report.count("users", user is None)
    if user is not None:
        return user
    user = user_model.objects.create(
        username=entry["username"],
        display_name=entry.get("display_name", ""),
        is_staff=staff,
        is_superuser=bool(entry.get("superuser")),
        password=demo_password_hash(password),
    )
    audit.record(
        actor=actor or user,
        action="core.user_create",
        obj=user,
        changes={"fields": ["username", "display_name", "is_staff", "is_superuser"], "demo": True},
    )
    return user


# --- regions --------------------------------------------------------------------------


def _load_regions(report, admin, data: dict) -> None:
    existing = {r.code: r for r in Region.objects.all()}

    def ensure(code: str, name: str, level: str, parent: Region | None) -> Region:
        region = existing.get(code)
        report.count("regions", region is None)
        if region is None:
            region = services.region_create(
                actor=admin, code=code, name=name, level=level, parent=parent
            )
            existing[code] = region
        return region

    province = ensure(data["province"]["code"], data["province"]["name"], "province", None)
    cities = {
        city["code"]: ensure(city["code"], city["name"], RegionLevel.CITY, province)
        for city in data["cities"]
    }
    for place in data["places"]:
        city_code = place["code"][:4] + "00000000"
        ensure(place["code"], place["name"], RegionLevel.COUNTY, cities[city_code])

    huarong = data["huarong"]
    county = existing[huarong["county"]]
    stems = huarong["village_name_stems"]
    for index, spec in enumerate(huarong["townships"]):
        township = ensure(spec["code"], spec["name"], RegionLevel.TOWNSHIP, county)
        for code, name in huarong_villages(spec, index, stems):
            ensure(code, name, RegionLevel.VILLAGE, township)


def _township_stem(name: str) -> str:
    return name.removesuffix("镇").removesuffix("乡").removesuffix("街道")


def huarong_villages(spec: dict, index: int, stems: list[str]) -> list[tuple[str, str]]:
    """(code, name) of a township's communities then villages. Communities are numbered
    001…, villages 201… (the statistical convention: 居委会 0xx–1xx, 村委会 2xx–3xx).
    Counts instead of names give generated names: the seat's "<stem>社区", then village
    stems taken in turn, each township starting further along the list."""
    prefix = spec["code"][:9]
    communities = spec["communities"]
    if isinstance(communities, int):
        communities = [f"{_township_stem(spec['name'])}社区"] * min(communities, 1)
    villages = spec["villages"]
    if isinstance(villages, int):
        if villages > len(stems):
            raise ValueError(f"{spec['name']}: more villages than name stems")
        start = index * 7
        villages = [f"{stems[(start + i) % len(stems)]}村" for i in range(villages)]
    rows = [(f"{prefix}{n:03d}", name) for n, name in enumerate(communities, start=1)]
    rows += [(f"{prefix}{n:03d}", name) for n, name in enumerate(villages, start=201)]
    return rows


# --- departments ----------------------------------------------------------------------


def department_uscc(place_code: str, place_index: int, kind_index: int) -> str:
    """A valid USCC for a government body (authority 1 机构编制, category 1 机关): the
    place's six digits and an organisation-code body from the place and kind numbers."""
    body = f"0{place_index + 1:02d}{kind_index + 1:02d}{place_code[2:5]}"
    return make_uscc(authority="1", category="1", region=place_code[:6], org_body=body)


def _load_departments(report, admin, regions: dict, data: dict) -> None:
    kinds = data["kinds"]
    missing = set(DepartmentKind.values) - {k["kind"] for k in kinds}
    if missing:
        raise ValueError(f"departments.yaml lacks kinds: {sorted(missing)}")
    existing = set(Department.objects.values_list("region__code", "kind"))
    places = {r.code: r for r in Region.objects.filter(level=RegionLevel.COUNTY)}
    cities = {r.code: r for r in Region.objects.filter(level=RegionLevel.CITY)}
    for place_index, place in enumerate(regions["places"]):
        region = places[place["code"]]
        words = {
            "place": place.get("prefix", place["name"]),
            "short": place["short"],
            "city": cities[place["code"][:4] + "00000000"].name,
        }
        overrides = data.get("overrides", {}).get(place["code"], {})
        for kind_index, spec in enumerate(kinds):
            kind = spec["kind"]
            is_new = (place["code"], kind) not in existing
            report.count("departments", is_new)
            if not is_new:
                continue
            named = {**spec, **overrides.get(kind, {})}
            services.department_create(
                actor=admin,
                region=region,
                kind=kind,
                name=named["name"].format(**words),
                short_name=named["short_name"].format(**words),
                uscc=department_uscc(place["code"], place_index, kind_index),
            )


# --- service points -------------------------------------------------------------------


def _load_service_points(report, admin, regions: dict, data: dict) -> None:
    existing = set(ServicePoint.objects.values_list("code", flat=True))
    by_code = {r.code: r for r in Region.objects.all()}
    hours, phone = data["hours"], data["phone"]

    def ensure(*, code, kind, region, name, address, hours_key) -> None:
        is_new = code not in existing
        report.count("service_points", is_new)
        if is_new:
            services.service_point_create(
                actor=admin,
                code=code,
                name=name,
                kind=kind,
                region=region,
                address=address,
                opening_hours=hours[hours_key],
                phone=phone,
            )
            existing.add(code)

    for point in data["points"]:
        ensure(
            code=point["code"],
            kind=point["kind"],
            region=by_code[point["region"]],
            name=point["name"],
            address=point["address"],
            hours_key=point["hours"],
        )

    huarong = regions["huarong"]
    centre, station = data["huarong"]["township_centre"], data["huarong"]["village_station"]
    every = data["huarong"]["village_station_every"]
    stems = huarong["village_name_stems"]
    for index, spec in enumerate(huarong["townships"]):
        township = by_code[spec["code"]]
        ensure(
            code=f"{spec['code']}-TC1",
            kind=PointKind.TOWNSHIP_CENTRE,
            region=township,
            name=centre["name"].format(township=spec["name"]),
            address=centre["address"].format(township=spec["name"]),
            hours_key=centre["hours"],
        )
        villages = huarong_villages(spec, index, stems)
        # every community (0xx codes), and every `every`-th village (2xx codes)
        chosen = [(c, n) for c, n in villages if c[9] == "0"]
        chosen += [(c, n) for c, n in villages if c[9] != "0"][::every]
        for code, name in chosen:
            words = {"township": spec["name"], "village": name}
            ensure(
                code=f"{code}-VS1",
                kind=PointKind.VILLAGE_STATION,
                region=by_code[code],
                name=station["name"].format(**words),
                address=station["address"].format(**words),
                hours_key=station["hours"],
            )


# --- staff ----------------------------------------------------------------------------


def _load_staff(report, admin, data: dict) -> None:
    password = data["password"]
    for entry in data["staff"]:
        user = ensure_demo_user(report, entry, password, actor=admin)
        role = entry["role"]
        department = region = point = None
        if "department" in entry:
            department = Department.objects.select_related("region").get(
                region__code=entry["department"]["region"], kind=entry["department"]["kind"]
            )
        if "region" in entry:
            region = Region.objects.get(code=entry["region"])
        if "service_point" in entry:
            point = ServicePoint.objects.get(code=entry["service_point"])
        is_new = not RoleAssignment.objects.filter(
            user=user, role=role, department=department, region=region
        ).exists()
        report.count("role_assignments", is_new)
        if is_new:
            services.role_assign(
                actor=admin,
                user=user,
                role=role,
                department=department,
                region=region,
                service_point=point,
            )
        scope = department.name if department else (region.name if region else _("全平台"))
        report.logins.append((entry["username"], password, str(Role(role).label), scope))
