"""Open311 GeoReport v2 conformance, driven by a client written from the spec."""

import datetime as dt

import pytest

from yiciban.hotline import services
from yiciban.hotline.models import ApiClient, Ticket, TicketStatus

from .open311_client import (
    GeoReportClient,
    GeoReportError,
    check_definition,
    check_requests,
    check_services,
    check_w3c_datetime,
    django_fetch,
)

ENDPOINT = "http://testserver/api/georeport/v2"


@pytest.fixture
def api_key(admin_user, huarong):
    _client, key = services.api_client_create(
        actor=admin_user, name="岳阳市12345平台", region=huarong
    )
    return key


@pytest.fixture
def geo(client, categories, api_key):
    return GeoReportClient(ENDPOINT, api_key=api_key, fetch=django_fetch(client))


@pytest.fixture
def anonymous(client, categories):
    return GeoReportClient(ENDPOINT, fetch=django_fetch(client))


COMPLAINT = {
    "description": "某超市销售过期食品",
    "address_string": "华容县章华镇人民路1号",
    "first_name": "先生",
    "last_name": "王",
    "phone": "13812345678",
    "attribute[respondent]": "某超市",
    "attribute[loss]": "yes",
}


def test_service_list_and_definition(geo):
    services_list = geo.services()
    check_services(services_list)
    codes = {s["service_code"]: s for s in services_list}
    assert set(codes) == {"consultation.general", "complaint.market", "suggestion.general"}
    assert codes["complaint.market"]["metadata"] is True
    assert codes["consultation.general"]["metadata"] is False
    definition = geo.service_definition("complaint.market")
    check_definition(definition)
    assert [a["code"] for a in definition["attributes"]] == ["respondent", "loss"]


def test_unknown_service_definition_is_open311_404(geo):
    with pytest.raises(GeoReportError) as missing:
        geo.service_definition("no.such.service")
    assert missing.value.response.status == 404


def test_post_then_read_back(geo, anonymous):
    created = geo.post_request("complaint.market", **COMPLAINT)
    assert len(created) == 1 and created[0]["service_request_id"]
    assert "工作日" in created[0]["service_notice"]
    number = created[0]["service_request_id"]
    ticket = Ticket.objects.get(number=number)
    assert ticket.channel == "api" and ticket.caller_name == "王先生"
    assert ticket.attributes == {"respondent": "某超市", "loss": "yes"}
    assert ticket.caller_phone_masked == "138****5678"

    mine = geo.request(number)
    check_requests(mine)
    assert mine[0]["status"] == "open" and mine[0]["description"] == "某超市销售过期食品"
    assert mine[0]["address"] == "华容县章华镇人民路1号"
    # Others see the status but not the resident's text or place.
    public = anonymous.request(number)
    check_requests(public)
    assert public[0]["description"] is None and public[0]["address"] is None


def test_status_follows_the_ticket(geo, operator, market, market_staff):
    number = geo.post_request("complaint.market", **COMPLAINT)[0]["service_request_id"]
    ticket = Ticket.objects.get(number=number)
    services.ticket_dispatch(actor=operator, ticket=ticket, department=market)
    dispatched = geo.request(number)[0]
    assert dispatched["status"] == "open"
    assert dispatched["agency_responsible"] == "华容县市场监督管理局"
    expected = check_w3c_datetime(dispatched["expected_datetime"])
    assert expected.date() >= dt.date.today()
    services.ticket_answer(actor=market_staff, ticket=ticket, answer="已立案调查")
    answered = geo.request(number)[0]
    assert answered["status"] == "closed" and answered["status_notes"] == "已立案调查"


def test_list_filters(geo, logged_call):
    complaint = geo.post_request("complaint.market", **COMPLAINT)[0]["service_request_id"]
    suggestion = geo.post_request("suggestion.general", description="建议增加公交班次")[0][
        "service_request_id"
    ]
    logged_call()
    everything = geo.requests()
    check_requests(everything)
    assert len(everything) == 3
    only = geo.requests(service_code="suggestion.general")
    assert [r["service_request_id"] for r in only] == [suggestion]
    both = geo.requests(service_request_id=f"{complaint},{suggestion}")
    assert {r["service_request_id"] for r in both} == {complaint, suggestion}
    assert geo.requests(status="closed") == []
    assert len(geo.requests(status="open,closed")) == 3
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert geo.requests(start_date=future) == []
    assert len(geo.requests(end_date=future)) == 3
    assert len(geo.requests(page_size=2)) == 2 and len(geo.requests(page_size=2, page=2)) == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "pending"}, "status"),
        ({"start_date": "2025-01-01"}, "start_date"),
        ({"end_date": "yesterday"}, "end_date"),
        ({"page_size": "5000"}, "page_size"),
        ({"start_date": "2025-02-01T00:00:00Z", "end_date": "2025-01-01T00:00:00Z"}, "start_date"),
    ],
)
def test_list_bad_parameters_are_open311_400(geo, params, field):
    with pytest.raises(GeoReportError) as bad:
        geo.requests(**params)
    assert bad.value.response.status == 400
    assert bad.value.response.body[0]["description"].startswith(field)


def test_post_without_or_with_a_bad_key_is_403(anonymous, geo, admin_user):
    with pytest.raises(GeoReportError) as missing:
        anonymous.post_request("complaint.market", **COMPLAINT)
    assert missing.value.response.status == 403
    anonymous.api_key = "yb311_deadbeef_not-a-real-key"
    with pytest.raises(GeoReportError) as wrong:
        anonymous.post_request("complaint.market", **COMPLAINT)
    assert wrong.value.response.status == 403
    services.api_client_deactivate(actor=admin_user, client=ApiClient.objects.get())
    with pytest.raises(GeoReportError) as inactive:
        geo.post_request("complaint.market", **COMPLAINT)
    assert inactive.value.response.status == 403
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    ("service_code", "fields", "expected"),
    [
        ("", COMPLAINT, "service_code"),
        ("no.such", COMPLAINT, "service_code"),
        ("complaint.market", {**COMPLAINT, "description": ""}, "description"),
        (
            "complaint.market",
            {k: v for k, v in COMPLAINT.items() if k != "address_string"},
            "address",
        ),
        (
            "complaint.market",
            {k: v for k, v in COMPLAINT.items() if k != "attribute[respondent]"},
            "attribute[respondent]",
        ),
        ("complaint.market", {**COMPLAINT, "attribute[loss]": "perhaps"}, "attribute[loss]"),
        ("complaint.market", {**COMPLAINT, "lat": "28.5"}, "lat"),
        ("complaint.market", {**COMPLAINT, "lat": "north", "long": "112.5"}, "lat"),
        ("complaint.market", {**COMPLAINT, "phone": "12"}, "caller_phone"),
        ("complaint.market", {**COMPLAINT, "email": "not-an-address"}, "email"),
        ("complaint.market", {**COMPLAINT, "media_url": "ftp://x/y"}, "media_url"),
    ],
)
def test_post_missing_or_bad_fields_are_open311_400(geo, service_code, fields, expected):
    with pytest.raises(GeoReportError) as bad:
        geo.post_request(service_code, **fields)
    assert bad.value.response.status == 400
    descriptions = [e["description"] for e in bad.value.response.body]
    assert any(d.startswith(expected) for d in descriptions), descriptions
    assert not Ticket.objects.exists()


def test_lat_long_instead_of_address(geo):
    fields = {k: v for k, v in COMPLAINT.items() if k != "address_string"}
    number = geo.post_request("complaint.market", lat="29.5200", long="112.5600", **fields)[0][
        "service_request_id"
    ]
    mine = geo.request(number)[0]
    assert (mine["lat"], mine["long"]) == (29.52, 112.56)


def test_jurisdiction(geo, lanshan):
    geo.jurisdiction_id = "430623"
    assert geo.services()
    number = geo.post_request("suggestion.general", description="建议")[0]["service_request_id"]
    assert [r["service_request_id"] for r in geo.requests()] == [number]
    geo.jurisdiction_id = "431127"  # Lanshan: outside this client's county
    assert geo.requests() == []
    with pytest.raises(GeoReportError) as foreign:
        geo.post_request("suggestion.general", description="建议")
    assert foreign.value.response.status == 403
    geo.jurisdiction_id = "439999"
    with pytest.raises(GeoReportError) as unknown:
        geo.services()
    assert unknown.value.response.status == 404
    geo.jurisdiction_id = "abc"
    with pytest.raises(GeoReportError) as malformed:
        geo.services()
    assert malformed.value.response.status == 400


def test_unknown_request_is_open311_404(geo):
    with pytest.raises(GeoReportError) as missing:
        geo.request("20990101000001")
    assert missing.value.response.status == 404


@pytest.mark.django_db(transaction=True)
def test_conformance_over_real_http(live_server, admin_user, categories, huarong, operator, market):
    """The same client over a socket (loopback only), as an outside platform would call."""
    _client, key = services.api_client_create(actor=admin_user, name="外部平台", region=huarong)
    geo = GeoReportClient(f"{live_server.url}/api/georeport/v2", api_key=key)
    check_services(geo.services())
    number = geo.post_request("complaint.market", **COMPLAINT)[0]["service_request_id"]
    services.ticket_dispatch(
        actor=operator, ticket=Ticket.objects.get(number=number), department=market
    )
    listed = geo.requests(service_request_id=number)
    check_requests(listed)
    assert listed[0]["agency_responsible"] == "华容县市场监督管理局"
    assert Ticket.objects.get(number=number).status == TicketStatus.DISPATCHED
