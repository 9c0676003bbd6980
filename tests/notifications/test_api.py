import pytest

from yiciban.notifications.services import notification_send


def notify(user, n: int):
    return notification_send(
        actor=None,
        recipient_user=user,
        subject=f"第{n}条通知",
        body="您的申请有新进展。",
        kind="cases.progress",
        link=f"/cases/{n}/",
    )


@pytest.fixture
def zhangsan(make_user):
    return make_user("zhangsan")


@pytest.mark.django_db
def test_list_is_own_newest_first_and_paginated(client, zhangsan, make_user, time_machine):
    other = make_user()
    for n in range(1, 4):
        time_machine.move_to(f"2025-03-0{n} 09:00:00+08:00", tick=False)
        notify(zhangsan, n)
    notify(other, 99)
    client.force_login(zhangsan)
    page = client.get("/api/v1/notifications", {"limit": 2, "offset": 1}).json()
    assert page["count"] == 3
    assert page["unread"] == 3
    assert [item["subject"] for item in page["items"]] == ["第2条通知", "第1条通知"]
    first = client.get("/api/v1/notifications").json()["items"][0]
    assert first["subject"] == "第3条通知"
    assert first["link"] == "/cases/3/"
    assert first["read_at"] is None
    assert first["created_at"].startswith("2025-03-03T01:00:00")


@pytest.mark.django_db
def test_list_requires_a_session(client):
    response = client.get("/api/v1/notifications")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"offset": -1}, "offset"),
        ({"limit": 101}, "limit"),
        ({"limit": "x"}, "limit"),
    ],
)
def test_bad_paging_is_422_naming_the_field(client, zhangsan, params, field):
    client.force_login(zhangsan)
    response = client.get("/api/v1/notifications", params)
    assert response.status_code == 422
    body = response.json()
    assert any(e["field"].endswith(field) for e in body["errors"]), body


@pytest.mark.django_db
def test_mark_read_own_then_list_shows_it(client, zhangsan):
    notification = notify(zhangsan, 1)
    client.force_login(zhangsan)
    response = client.post(f"/api/v1/notifications/{notification.pk}/read")
    assert response.status_code == 200
    assert response.json()["read_at"] is not None
    page = client.get("/api/v1/notifications").json()
    assert page["unread"] == 0


@pytest.mark.django_db
def test_mark_read_of_someone_elses_is_403_and_unknown_is_404(client, zhangsan, make_user):
    theirs = notify(make_user(), 1)
    client.force_login(zhangsan)
    forbidden = client.post(f"/api/v1/notifications/{theirs.pk}/read")
    assert forbidden.status_code == 403
    assert forbidden["Content-Type"] == "application/problem+json"
    missing = client.post(f"/api/v1/notifications/{theirs.pk + 100}/read")
    assert missing.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.django_db
def test_mark_read_needs_csrf_with_a_session(zhangsan):
    from django.test import Client

    notification = notify(zhangsan, 1)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(zhangsan)
    assert strict.post(f"/api/v1/notifications/{notification.pk}/read").status_code == 403
    notification.refresh_from_db()
    assert notification.read_at is None


@pytest.mark.django_db
def test_outbox_summary_for_staff_only(client, make_user, zhangsan):
    notification_send(
        actor=None,
        phone="13800138000",
        channels=["sms"],
        subject="通知",
        body="内容",
        kind="tests.summary",
    )
    client.force_login(zhangsan)
    assert client.get("/api/v1/notifications/outbox/summary").status_code == 403
    client.force_login(make_user("supervisor", is_staff=True))
    summary = client.get("/api/v1/notifications/outbox/summary").json()
    assert summary["counts"]["sms"]["queued"] == 1
    assert summary["counts"]["email"]["queued"] == 0
    assert summary["due_now"] == 1
    assert "13800138000" not in str(summary)
