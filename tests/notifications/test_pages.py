import pytest
from django.urls import reverse

from yiciban.notifications.models import Notification
from yiciban.notifications.services import notification_send


def notify(user, subject="补正材料通知", link=""):
    return notification_send(
        actor=None,
        recipient_user=user,
        subject=subject,
        body="请补正营业场所平面图。\n逾期未补正的，视为撤回申请。",
        kind="cases.supplement_requested",
        link=link,
    )


@pytest.mark.django_db
def test_inbox_requires_login(client):
    response = client.get(reverse("notifications:inbox"))
    assert response.status_code == 302
    assert reverse("web:login") in response["Location"]


@pytest.mark.django_db
def test_inbox_shows_own_notifications_in_chinese(client, make_user):
    zhangsan, other = make_user("zhangsan"), make_user()
    notify(zhangsan, link="/cases/5/")
    notify(other, subject="别人的通知")
    client.force_login(zhangsan)
    page = client.get(reverse("notifications:inbox")).content.decode()
    assert "我的消息" in page
    assert "补正材料通知" in page
    assert 'href="/cases/5/"' in page
    assert "请补正营业场所平面图。<br>逾期未补正的" in page
    assert "别人的通知" not in page
    assert "未读" in page and "标为已读" in page


@pytest.mark.django_db
def test_inbox_escapes_markup_in_notifications(client, make_user):
    user = make_user()
    notify(user, subject="<script>alert(1)</script>")
    client.force_login(user)
    page = client.get(reverse("notifications:inbox")).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


@pytest.mark.django_db
def test_empty_inbox_says_so(client, make_user):
    client.force_login(make_user())
    assert "暂无消息" in client.get(reverse("notifications:inbox")).content.decode()


@pytest.mark.django_db
def test_mark_read_form_marks_and_returns_to_the_page(client, make_user):
    user = make_user()
    notification = notify(user)
    client.force_login(user)
    url = reverse("notifications:mark_read", args=[notification.pk])
    assert client.get(url).status_code == 405  # reading a page never changes anything
    response = client.post(url, {"next": "/notifications/?page=1"})
    assert response.status_code == 302
    assert response["Location"] == "/notifications/?page=1"
    notification.refresh_from_db()
    assert notification.read_at is not None


@pytest.mark.django_db
def test_mark_read_refuses_other_peoples_and_unknown(client, make_user):
    owner, intruder = make_user(), make_user()
    notification = notify(owner)
    client.force_login(intruder)
    assert (
        client.post(reverse("notifications:mark_read", args=[notification.pk])).status_code == 403
    )
    missing = reverse("notifications:mark_read", args=[notification.pk + 50])
    assert client.post(missing).status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


@pytest.mark.django_db
def test_mark_all_read_and_no_open_redirect(client, make_user):
    user = make_user()
    for n in range(3):
        notify(user, subject=f"通知{n}")
    client.force_login(user)
    response = client.post(
        reverse("notifications:mark_all_read"), {"next": "https://evil.example/phish"}
    )
    assert response["Location"] == reverse("notifications:inbox")
    assert not Notification.objects.filter(recipient=user, read_at__isnull=True).exists()
    page = client.get(response["Location"]).content.decode()
    assert "已将3条消息标为已读" in page
    assert "全部标为已读" not in page


@pytest.mark.django_db
def test_inbox_paginates(client, make_user):
    user = make_user()
    for n in range(25):
        notify(user, subject=f"第{n}号通知")
    client.force_login(user)
    second = client.get(reverse("notifications:inbox"), {"page": 2}).content.decode()
    assert "第2页，共2页" in second
    assert "第0号通知" in second and "第24号通知" not in second
