"""A small Open311 GeoReport v2 client written from the specification
(wiki.open311.org/GeoReport_v2), used to test the server as an independent client would:
URLs are {endpoint}/{resource}.{format}, writes are form-encoded with api_key, lists and
errors are JSON arrays, datetimes are W3C (ISO 8601 with a zone).

`check_*` functions assert the shapes the spec gives for each response."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

SERVICE_TYPES = {"realtime", "batch", "blackbox"}
ATTRIBUTE_TYPES = {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}
REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}


@dataclass
class Response:
    status: int
    content_type: str
    body: object


class GeoReportError(Exception):
    def __init__(self, response: Response):
        super().__init__(f"{response.status}: {response.body}")
        self.response = response


class GeoReportClient:
    def __init__(self, endpoint: str, *, api_key: str = "", jurisdiction_id: str = "", fetch=None):
        self.endpoint = endpoint.rstrip("/")
        self.api_key = api_key
        self.jurisdiction_id = jurisdiction_id
        self.fetch = fetch or urllib_fetch

    def _url(self, resource: str, params: dict | None = None) -> str:
        query = dict(params or {})
        if self.jurisdiction_id:
            query.setdefault("jurisdiction_id", self.jurisdiction_id)
        if self.api_key:
            # optional on reads; lets the server show a client its own requests in full
            query.setdefault("api_key", self.api_key)
        url = f"{self.endpoint}/{resource}.json"
        return f"{url}?{urllib.parse.urlencode(query)}" if query else url

    def _call(self, method: str, url: str, form: dict | None = None) -> Response:
        response = self.fetch(method, url, form)
        assert response.content_type.startswith("application/json"), response.content_type
        if response.status >= 400:
            check_errors(response.body, response.status)
            raise GeoReportError(response)
        return response

    def services(self) -> list[dict]:
        return self._call("GET", self._url("services")).body

    def service_definition(self, service_code: str) -> dict:
        return self._call("GET", self._url(f"services/{urllib.parse.quote(service_code)}")).body

    def post_request(self, service_code: str, **fields) -> dict:
        form = {"service_code": service_code, **fields}
        if self.api_key:
            form["api_key"] = self.api_key
        if self.jurisdiction_id:
            form["jurisdiction_id"] = self.jurisdiction_id
        response = self._call("POST", f"{self.endpoint}/requests.json", form)
        assert 200 <= response.status < 300
        return response.body

    def requests(self, **params) -> list[dict]:
        return self._call("GET", self._url("requests", params)).body

    def request(self, service_request_id: str, **params) -> list[dict]:
        return self._call(
            "GET", self._url(f"requests/{urllib.parse.quote(service_request_id)}", params)
        ).body


def urllib_fetch(method: str, url: str, form: dict | None) -> Response:
    data = None
    headers = {"Accept": "application/json"}
    if form is not None:
        pairs = []
        for key, value in form.items():
            for item in value if isinstance(value, list | tuple) else [value]:
                pairs.append((key, item))
        data = urllib.parse.urlencode(pairs).encode("utf-8")
        headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as raw:
            return Response(raw.status, raw.headers["Content-Type"], json.loads(raw.read()))
    except urllib.error.HTTPError as exc:
        return Response(exc.code, exc.headers["Content-Type"], json.loads(exc.read()))


def django_fetch(client):
    """Transport through Django's test client (same wire format, no socket)."""

    def fetch(method: str, url: str, form: dict | None) -> Response:
        path = urllib.parse.urlsplit(url)
        target = path.path + (f"?{path.query}" if path.query else "")
        if method == "GET":
            raw = client.get(target)
        else:
            raw = client.post(
                target,
                urllib.parse.urlencode(
                    [(k, i) for k, v in form.items() for i in (v if isinstance(v, list) else [v])]
                ),
                content_type="application/x-www-form-urlencoded",
            )
        return Response(raw.status_code, raw["Content-Type"], json.loads(raw.content))

    return fetch


# --- shape checks from the specification ------------------------------------------------------


def check_w3c_datetime(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.tzinfo is not None, f"{value} has no time zone"
    return parsed


def check_errors(body, status: int) -> None:
    assert isinstance(body, list) and body, body
    for error in body:
        assert set(error) == {"code", "description"}, error
        assert error["code"] == status and isinstance(error["description"], str)


def check_services(body) -> None:
    assert isinstance(body, list)
    for service in body:
        assert set(service) >= {
            "service_code",
            "service_name",
            "description",
            "metadata",
            "type",
            "keywords",
            "group",
        }
        assert isinstance(service["metadata"], bool)
        assert service["type"] in SERVICE_TYPES


def check_definition(body) -> None:
    assert set(body) == {"service_code", "attributes"}
    for attribute in body["attributes"]:
        assert attribute["datatype"] in ATTRIBUTE_TYPES
        assert isinstance(attribute["variable"], bool) and isinstance(attribute["required"], bool)
        assert isinstance(attribute["order"], int)
        if attribute["datatype"].endswith("valuelist"):
            assert all(set(v) == {"key", "name"} for v in attribute["values"])


def check_requests(body) -> None:
    assert isinstance(body, list)
    for item in body:
        assert set(item) == REQUEST_FIELDS, set(item) ^ REQUEST_FIELDS
        assert item["status"] in ("open", "closed")
        check_w3c_datetime(item["requested_datetime"])
        check_w3c_datetime(item["updated_datetime"])
        if item["expected_datetime"]:
            check_w3c_datetime(item["expected_datetime"])
        for coordinate in ("lat", "long"):
            assert item[coordinate] is None or isinstance(item[coordinate], float)
