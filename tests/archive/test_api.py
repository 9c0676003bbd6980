import datetime as dt

import pytest

from tests.archive.conftest import png
from tests.licences.conftest import issue_food

pytestmark = pytest.mark.django_db


def test_owner_and_staff_read_the_archive(arch, client):
    world = arch.w
    permit = issue_food(world)
    client.force_login(arch.inspector)
    response = client.post(
        f"/api/v1/archive/enterprises/{world.enterprise.uscc}/records",
        {
            "kind": "inspection",
            "department_id": world.market.pk,
            "event_date": dt.date.today().isoformat(),
            "summary": "抽查合格",
            "links": [{"type": "licence", "ref": permit.number}],
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["late"] is False
    client.force_login(world.boss_user)
    upload = client.post(
        f"/api/v1/archive/enterprises/{world.enterprise.uscc}/documents",
        {"file": _file(), "title": "租赁合同", "material_kind": "premises.lease"},
    )
    assert upload.status_code == 201, upload.content
    assert upload.json()["origin"] == "applicant_uploaded"
    data = client.get(f"/api/v1/archive/enterprises/{world.enterprise.uscc}").json()
    assert data["full_view"] and data["records_count"] == 1
    assert [lic["number"] for lic in data["licences"]] == [permit.number]
    assert [d["title"] for d in data["documents"]] == ["租赁合同"]
    mine = client.get("/api/v1/archive/mine").json()
    assert [a["subject_name"] for a in mine] == [world.enterprise.name]
    page = client.get("/archive/mine/")
    assert page.status_code == 200 and "租赁合同" in page.content.decode()

    client.force_login(arch.clerk)
    checked = client.post(f"/api/v1/archive/documents/{upload.json()['id']}/check")
    assert checked.status_code == 200 and checked.json()["origin"] == "counter_checked"


def test_archive_api_refusals(arch, client):
    world = arch.w
    url = f"/api/v1/archive/enterprises/{world.enterprise.uscc}"
    assert client.get(url).status_code in (401, 403)
    client.force_login(world.health_approver)
    assert client.get(url).status_code == 404
    future = client.post(
        url + "/records",
        {
            "kind": "penalty",
            "department_id": world.health.pk,
            "event_date": (dt.date.today() + dt.timedelta(days=3)).isoformat(),
            "summary": "x",
        },
        content_type="application/json",
    )
    assert future.status_code == 422
    assert future.json()["errors"][0]["field"] == "event_date"
    forbidden = client.post(
        url + "/records",
        {
            "kind": "penalty",
            "department_id": world.market.pk,
            "event_date": dt.date.today().isoformat(),
            "summary": "x",
        },
        content_type="application/json",
    )
    assert forbidden.status_code == 403
    assert client.get("/api/v1/archive/enterprises/91430623MA0000001X").status_code == 404
    client.force_login(world.boss_user)
    first = client.post(url + "/documents", {"file": _file(), "title": "合同"})
    assert first.status_code == 201
    duplicate = client.post(url + "/documents", {"file": _file(), "title": "合同"})
    assert duplicate.status_code == 409


def test_timeliness_board(arch, client, platform_admin):
    world = arch.w
    client.force_login(arch.inspector)
    client.post(
        f"/api/v1/archive/enterprises/{world.enterprise.uscc}/records",
        {
            "kind": "inspection",
            "department_id": world.market.pk,
            "event_date": (dt.date.today() - dt.timedelta(days=30)).isoformat(),
            "summary": "迟到的检查记录",
        },
        content_type="application/json",
    )
    board = client.get("/api/v1/archive/timeliness").json()
    assert board["count"] == 1
    assert board["items"][0]["department_id"] == world.market.pk
    assert board["items"][0]["late"] == 1
    client.force_login(arch.supervisor)
    page = client.get("/archive/late/")
    assert page.status_code == 200 and world.market.name in page.content.decode()


def _file():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("lease.png", png("api lease"), content_type="image/png")
