import pytest

from tests.org.fixtures import make_department
from yiciban.org.models import DepartmentKind, PointKind, ServicePoint

PROBLEM = "application/problem+json"


@pytest.fixture
def points(tree):
    centre = ServicePoint.objects.create(
        code="430623100000-TC1",
        name="章华镇便民服务中心",
        kind=PointKind.TOWNSHIP_CENTRE,
        region=tree.zhanghua,
        address="华容县章华镇人民政府一楼",
        opening_hours="周一至周五",
    )
    window = ServicePoint.objects.create(
        code="430624000000-XP1",
        name="湘阴县跨省通办专窗",
        kind=PointKind.CROSS_PROVINCE_WINDOW,
        region=tree.xiangyin,
        address="湘阴县政务服务中心",
        opening_hours="周一至周五",
    )
    return centre, window


@pytest.mark.django_db
def test_regions_direct_children(client, tree):
    body = client.get("/api/v1/org/regions", {"parent": "430600"}).json()
    assert body["count"] == 2
    assert [r["code"] for r in body["items"]] == ["430623000000", "430624000000"]
    assert body["items"][0] == {
        "code": "430623000000",
        "name": "华容县",
        "level": "county",
        "level_label": "县（市、区）",
        "parent_code": "430600000000",
    }


@pytest.mark.django_db
def test_regions_within_and_level(client, tree):
    body = client.get("/api/v1/org/regions", {"within": "430623", "level": "village"}).json()
    assert [r["code"] for r in body["items"]] == ["430623100001"]
    townships = client.get("/api/v1/org/regions", {"level": "township"}).json()
    assert townships["count"] == 2


@pytest.mark.django_db
def test_regions_are_paginated_with_a_total(client, tree):
    first = client.get("/api/v1/org/regions", {"limit": 3}).json()
    rest = client.get("/api/v1/org/regions", {"limit": 3, "offset": 3}).json()
    assert first["count"] == rest["count"] == 7
    assert len(first["items"]) == 3 and len(rest["items"]) == 3
    assert not {r["code"] for r in first["items"]} & {r["code"] for r in rest["items"]}


@pytest.mark.django_db
def test_region_detail_has_ancestors(client, tree):
    response = client.get("/api/v1/org/regions/430623100001")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "东街社区"
    assert [a["code"] for a in body["ancestors"]] == [
        "430000000000",
        "430600000000",
        "430623000000",
        "430623100000",
    ]
    assert body["children_count"] == 0
    assert client.get("/api/v1/org/regions/430623").json()["children_count"] == 1


@pytest.mark.django_db
def test_unknown_region_is_404(client, tree):
    response = client.get("/api/v1/org/regions/431127000000")
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "region_not_found"
    filtered = client.get("/api/v1/org/departments", {"region": "431127"})
    assert filtered.status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "params", "field", "rule"),
    [
        ("/api/v1/org/regions/43062", {}, "path.code", "string_pattern_mismatch"),
        ("/api/v1/org/regions/43062300000X", {}, "path.code", "string_pattern_mismatch"),
        ("/api/v1/org/regions/990000000000", {}, "path.code", "province"),
        ("/api/v1/org/regions/430023000000", {}, "path.code", "shape"),
        ("/api/v1/org/regions", {"parent": "abc"}, "query.parent", "string_pattern_mismatch"),
        ("/api/v1/org/regions", {"level": "hamlet"}, "query.level", "enum"),
        ("/api/v1/org/regions", {"limit": 0}, "query.limit", "greater_than_equal"),
        ("/api/v1/org/regions", {"limit": 10_000}, "query.limit", "less_than_equal"),
        ("/api/v1/org/regions", {"limit": "many"}, "query.limit", "int_parsing"),
        ("/api/v1/org/regions", {"offset": -1}, "query.offset", "greater_than_equal"),
        ("/api/v1/org/departments", {"kind": "magic"}, "query.kind", "enum"),
        (
            "/api/v1/org/service-points",
            {"region": "4306"},
            "query.region",
            "string_pattern_mismatch",
        ),
    ],
)
def test_bad_input_is_422_naming_field_and_rule(client, tree, url, params, field, rule):
    response = client.get(url, params)
    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM
    assert {"field": field, "rule": rule} in [
        {"field": e["field"], "rule": e["rule"]} for e in response.json()["errors"]
    ]


@pytest.mark.django_db
def test_departments_filter_by_region_including_descendants_and_kind(client, tree):
    make_department(tree.zhanghua, DepartmentKind.CIVIL_AFFAIRS, name="章华镇民政办")
    county = client.get("/api/v1/org/departments", {"region": "430623"}).json()
    assert county["count"] == 4
    assert "章华镇民政办" in [d["name"] for d in county["items"]]
    city = client.get("/api/v1/org/departments", {"region": "430600", "kind": "health"}).json()
    assert {d["region"]["code"] for d in city["items"]} == {"430623000000", "430624000000"}
    item = city["items"][0]
    assert item["kind_label"] == "卫生健康局"
    assert set(item) == {"id", "name", "short_name", "kind", "kind_label", "uscc", "region"}


@pytest.mark.django_db
def test_inactive_departments_are_not_listed(client, tree):
    tree.huarong_health.is_active = False
    tree.huarong_health.save()
    body = client.get("/api/v1/org/departments", {"region": "430623"}).json()
    assert "health" not in [d["kind"] for d in body["items"]]


@pytest.mark.django_db
def test_service_points_filter_includes_descendants(client, tree, points):
    huarong = client.get("/api/v1/org/service-points", {"region": "430623"}).json()
    assert {p["code"] for p in huarong["items"]} == {"430623000000-CH1", "430623100000-TC1"}
    windows = client.get("/api/v1/org/service-points", {"kind": "cross_province_window"}).json()
    assert [p["code"] for p in windows["items"]] == ["430624000000-XP1"]
    assert windows["items"][0]["kind_label"] == "跨省通办窗口"
    assert windows["items"][0]["region"]["name"] == "湘阴县"


@pytest.mark.django_db
def test_the_org_api_is_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {
        "/api/v1/org/regions",
        "/api/v1/org/regions/{code}",
        "/api/v1/org/departments",
        "/api/v1/org/service-points",
    } <= set(paths)
