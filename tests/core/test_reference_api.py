"""Public reference API: /api/v1/reference/deadline and /identifiers/{kind}/{value}. Every
bad input is a problem+json answer naming the field and the rule, never a 500."""

import pytest

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
DEADLINE = "/api/v1/reference/deadline"


def problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    return body


def field_errors(body):
    return [(e["field"], e["rule"]) for e in body["errors"]]


# --- deadline ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("start", "n", "due", "provisional"),
    [
        ("2024-02-08", 2, "2024-02-18", False),  # Sunday 18 Feb 2024 was a working day
        ("2025-09-30", 1, "2025-10-09", False),  # over National Day 2025
        ("2026-02-13", 2, "2026-02-24", False),  # over Spring Festival 2026
        ("2026-12-30", 3, "2027-01-05", True),  # into 2027, no official schedule yet
        ("2024-10-01", 0, "2024-10-01", False),  # N = 0: the same day
    ],
)
def test_deadline(client, start, n, due, provisional):
    response = client.get(DEADLINE, {"start": start, "working_days": n})
    assert response.status_code == 200
    assert response.json() == {
        "start": start,
        "working_days": n,
        "due": due,
        "provisional": provisional,
    }


@pytest.mark.parametrize(
    ("params", "field", "rule"),
    [
        ({"working_days": 1}, "query.start", "missing"),
        ({"start": "2024-02-08"}, "query.working_days", "missing"),
        ({"start": "2024-02-30", "working_days": 1}, "query.start", "date_from_datetime_parsing"),
        ({"start": "yesterday", "working_days": 1}, "query.start", "date_from_datetime_parsing"),
        (
            {"start": "2024-02-08T10:00", "working_days": 1},
            "query.start",
            "date_from_datetime_inexact",
        ),
        ({"start": "2024-02-08", "working_days": -1}, "query.working_days", "greater_than_equal"),
        ({"start": "2024-02-08", "working_days": 3651}, "query.working_days", "less_than_equal"),
        ({"start": "2024-02-08", "working_days": 10**30}, "query.working_days", "less_than_equal"),
        ({"start": "2024-02-08", "working_days": "abc"}, "query.working_days", "int_parsing"),
        ({"start": "2024-02-08", "working_days": "1.5"}, "query.working_days", "int_parsing"),
        ({"start": "9999-12-31", "working_days": 1}, "start", "out_of_range"),
    ],
)
def test_deadline_bad_input_is_422_problem(client, params, field, rule):
    body = problem(client.get(DEADLINE, params), 422)
    assert (field, rule) in field_errors(body)
    assert body["detail"]


def test_deadline_cap_is_documented_in_openapi(client):
    spec = client.get("/api/openapi.json").json()
    parameters = spec["paths"][DEADLINE]["get"]["parameters"]
    working_days = next(p for p in parameters if p["name"] == "working_days")
    assert working_days["schema"]["maximum"] == 3650
    assert working_days["schema"]["minimum"] == 0
    assert working_days["required"] is True


# --- identifiers --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("uscc/91350100M000100Y43", {"valid": True, "reason": None, "rule": None}),
        ("uscc/91350100m000100y43", {"valid": True, "reason": None, "rule": None}),
        ("resident-id/11010519491231002X", {"valid": True, "reason": None, "rule": None}),
        (
            "uscc/91350100M000100Y44",
            {"valid": False, "reason": "第18位校验码应为“3”，实际为“4”", "rule": "check_char"},
        ),
        (
            "resident-id/110105194902300021",
            {
                "valid": False,
                "reason": "第7至14位出生日期“19490230”不是有效日期",
                "rule": "birth_date",
            },
        ),
        (
            "uscc/91350100M000100YI3",
            {
                "valid": False,
                "reason": "统一社会信用代码含有不允许的字符：I（不使用I、O、S、V、Z）",
                "rule": "alphabet",
            },
        ),
    ],
)
def test_identifier_check(client, path, expected):
    response = client.get(f"/api/v1/reference/identifiers/{path}")
    assert response.status_code == 200
    assert response.json() == expected


def test_unknown_identifier_kind_is_404_problem(client):
    body = problem(client.get("/api/v1/reference/identifiers/passport/E12345678"), 404)
    assert body["code"] == "not_found"
    assert "passport" in body["detail"]


def test_overlong_identifier_is_422_problem(client):
    body = problem(client.get("/api/v1/reference/identifiers/uscc/" + "9" * 65), 422)
    assert field_errors(body) == [("path.value", "string_too_long")]
