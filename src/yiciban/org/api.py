"""Public reference API of the organisation: regions, departments and service points.
Anyone may read it (it is what a guide or a map needs); lists are paginated."""

from __future__ import annotations

from typing import Annotated

from django.db.models import QuerySet
from ninja import Field, Query, Router, Schema
from ninja.params import Path

from . import selectors
from .codes import LOOKUP_PATTERN
from .models import Department, DepartmentKind, PointKind, Region, RegionLevel, ServicePoint

router = Router(tags=["org"])

MAX_LIMIT = 500
_CODE_HELP = "12-digit statistical code, or the 6-digit GB/T 2260 code of a county or higher."


class RegionRef(Schema):
    code: str
    name: str
    level: str


class RegionOut(Schema):
    code: str
    name: str
    level: str
    level_label: str
    parent_code: str | None

    @staticmethod
    def resolve_level_label(obj: Region) -> str:
        return str(obj.get_level_display())

    @staticmethod
    def resolve_parent_code(obj: Region) -> str | None:
        return obj.parent.code if obj.parent_id else None


class RegionDetailOut(RegionOut):
    ancestors: list[RegionRef] = Field(description="From the province down to the parent.")
    children_count: int


class RegionPage(Schema):
    count: int
    items: list[RegionOut]


class DepartmentOut(Schema):
    id: int
    name: str
    short_name: str
    kind: str
    kind_label: str
    uscc: str
    region: RegionRef

    @staticmethod
    def resolve_kind_label(obj: Department) -> str:
        return str(obj.get_kind_display())


class DepartmentPage(Schema):
    count: int
    items: list[DepartmentOut]


class ServicePointOut(Schema):
    code: str
    name: str
    kind: str
    kind_label: str
    region: RegionRef
    address: str
    opening_hours: str
    phone: str
    latitude: float | None
    longitude: float | None

    @staticmethod
    def resolve_kind_label(obj: ServicePoint) -> str:
        return str(obj.get_kind_display())


class ServicePointPage(Schema):
    count: int
    items: list[ServicePointOut]


def _page(queryset: QuerySet, limit: int, offset: int) -> dict:
    return {"count": queryset.count(), "items": list(queryset[offset : offset + limit])}


def _region_or_none(code: str | None, field: str) -> Region | None:
    return selectors.region_by_code(code, field=field) if code else None


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Page size, 1 to {MAX_LIMIT}.")]
Offset = Annotated[int, Query(ge=0, description="Items to skip.")]


def _code_query(description: str):
    return Annotated[
        str | None, Query(pattern=LOOKUP_PATTERN, description=f"{description} {_CODE_HELP}")
    ]


@router.get("/regions", response=RegionPage, summary="Regions (administrative divisions)")
def list_regions(
    request,
    parent: _code_query("Direct children of this region.") = None,
    within: _code_query("Every region below this one.") = None,
    level: Annotated[RegionLevel | None, Query(description="Only this level.")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
):
    regions = selectors.regions_list(
        parent=_region_or_none(parent, "query.parent"),
        within=_region_or_none(within, "query.within"),
        level=level.value if level else None,
    )
    return _page(regions, limit, offset)


@router.get("/regions/{code}", response=RegionDetailOut, summary="One region")
def get_region(request, code: Annotated[str, Path(pattern=LOOKUP_PATTERN, description=_CODE_HELP)]):
    region = selectors.region_by_code(code, field="path.code")
    region.ancestors = list(selectors.region_ancestors(region))
    region.children_count = region.children.count()
    return region


@router.get("/departments", response=DepartmentPage, summary="Government departments")
def list_departments(
    request,
    region: _code_query("Departments of this region and the regions below it.") = None,
    kind: Annotated[DepartmentKind | None, Query(description="Only this kind.")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
):
    departments = selectors.departments_list(
        region=_region_or_none(region, "query.region"), kind=kind.value if kind else None
    )
    return _page(departments, limit, offset)


@router.get("/service-points", response=ServicePointPage, summary="Service points")
def list_service_points(
    request,
    region: _code_query("Points serving this region or a region below it.") = None,
    kind: Annotated[PointKind | None, Query(description="Only this kind.")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
):
    points = selectors.service_points_list(
        region=_region_or_none(region, "query.region"), kind=kind.value if kind else None
    )
    return _page(points, limit, offset)
