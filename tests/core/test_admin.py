"""Core admin: users with their display name, the read-only audit trail, and calendar edits
that go through the services (validated, audited, and seen by the calendar at once)."""

import datetime as dt

import pytest
from django.contrib import admin as django_admin
from django.utils import timezone

from yiciban.core import admin as core_admin
from yiciban.core.calendar import is_working_day
from yiciban.core.models import AuditEvent, CalendarDay, CalendarYear, User

pytestmark = pytest.mark.django_db

D = dt.date


@pytest.fixture
def platform_admin(client):
    user = User.objects.create_superuser("root", password=None)
    client.force_login(user)
    return user


def inline_management(prefix="days", total=0, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


# --- users ------------------------------------------------------------------------------
def test_user_admin_is_the_named_subclass_with_display_name():
    registered = django_admin.site._registry[User]
    assert isinstance(registered, core_admin.UserAdmin)
    assert issubclass(core_admin.UserAdmin, django_admin.ModelAdmin)
    assert "display_name" in registered.list_display
    fields = [f for _, options in registered.fieldsets for f in options["fields"]]
    assert "display_name" in fields


def test_user_change_is_audited_without_values(client, platform_admin):
    clerk = User.objects.create_user("clerk", password=None)
    page = client.get(f"/admin/core/user/{clerk.pk}/change/")
    assert page.status_code == 200
    assert "显示名称" in page.content.decode()
    # Other apps may add inlines to the user admin (staff roles): send their empty forms.
    inlines = {}
    for inline in page.context["inline_admin_formsets"]:
        inlines.update(inline_management(inline.formset.prefix))
    response = client.post(
        f"/admin/core/user/{clerk.pk}/change/",
        {
            "username": "clerk",
            "display_name": "窗口 李四",
            "is_active": "on",
            "date_joined_0": "2026-01-05",
            "date_joined_1": "09:00:00",
            **inlines,
        },
    )
    assert response.status_code == 302, (
        response.context["adminform"].form.errors,
        [fs.formset.errors for fs in response.context["inline_admin_formsets"]],
    )
    clerk.refresh_from_db()
    assert clerk.display_name == "窗口 李四"
    event = AuditEvent.objects.get(action="core.user_update")
    assert event.actor == platform_admin
    assert "display_name" in event.changes["fields"]
    assert "窗口 李四" not in str(event.changes)


# --- the audit trail ----------------------------------------------------------------------
@pytest.fixture
def some_events(platform_admin):
    from yiciban.core.audit import record

    record(actor=platform_admin, action="core.calendar_day_create", object_type="a", object_id=1)
    record(actor=platform_admin, action="org.department_create", object_type="b", object_id=2)
    return AuditEvent.objects.order_by("id")


def test_audit_trail_lists_and_filters(client, some_events):
    assert client.get("/admin/core/auditevent/").context["cl"].result_count == 2
    by_action = client.get("/admin/core/auditevent/", {"action": "org.department_create"})
    assert by_action.context["cl"].result_count == 1
    by_type = client.get("/admin/core/auditevent/", {"object_type": "a"})
    assert by_type.context["cl"].result_count == 1
    now = timezone.localtime()
    by_date = client.get(
        "/admin/core/auditevent/",
        {
            "occurred_at__gte": (now - dt.timedelta(days=2)).isoformat(),
            "occurred_at__lt": (now + dt.timedelta(days=2)).isoformat(),
        },
    )
    assert by_date.context["cl"].result_count == 2
    earlier = client.get(
        "/admin/core/auditevent/",
        {"occurred_at__lt": (now - dt.timedelta(days=2)).isoformat()},
    )
    assert earlier.context["cl"].result_count == 0
    filters = [spec.title for spec in by_action.context["cl"].filter_specs]
    assert [str(t) for t in filters[:3]] == ["动作", "对象类型", "时间"]


def test_audit_trail_is_read_only(client, some_events):
    event = some_events.first()
    assert client.get("/admin/core/auditevent/add/").status_code == 403
    view = client.get(f"/admin/core/auditevent/{event.pk}/change/")
    assert view.status_code == 200  # visible …
    assert b'name="_save"' not in view.content  # … but nothing to save
    client.post(f"/admin/core/auditevent/{event.pk}/change/", {"action": "forged"})
    assert (
        client.post(f"/admin/core/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    client.post(
        "/admin/core/auditevent/",
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )
    event.refresh_from_db()
    assert event.action == "core.calendar_day_create"
    assert AuditEvent.objects.count() == 2


# --- the calendar -------------------------------------------------------------------------
def test_admin_edit_of_a_day_reaches_the_calendar_at_once(client, platform_admin):
    day = CalendarDay.objects.get(date=D(2026, 2, 14))  # make-up Saturday
    assert is_working_day(D(2026, 2, 14)).working is True  # now cached
    response = client.post(
        f"/admin/core/calendarday/{day.pk}/change/",
        {"date": "2026-02-14", "kind": "holiday", "name": "春节"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert is_working_day(D(2026, 2, 14)).working is False
    event = AuditEvent.objects.get(action="core.calendar_day_update")
    assert (event.actor, event.channel) == (platform_admin, "web")
    assert event.changes == {"kind": ["makeup_workday", "holiday"]}


def test_admin_adds_and_deletes_a_day(client, platform_admin):
    response = client.post(
        "/admin/core/calendarday/add/",
        {"date": "2026-03-02", "kind": "holiday", "name": "特别休息日"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert is_working_day(D(2026, 3, 2)).working is False
    day = CalendarDay.objects.get(date=D(2026, 3, 2))
    response = client.post(f"/admin/core/calendarday/{day.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert is_working_day(D(2026, 3, 2)).working is True
    assert AuditEvent.objects.filter(action="core.calendar_day_delete").count() == 1


def test_admin_form_refuses_a_makeup_day_on_a_weekday(client, platform_admin):
    response = client.post(
        "/admin/core/calendarday/add/",
        {"date": "2026-03-03", "kind": "makeup_workday", "name": "春节"},
    )
    assert response.status_code == 200
    assert "本来就上班" in response.content.decode()
    assert not CalendarDay.objects.filter(date=D(2026, 3, 3)).exists()


def test_admin_form_refuses_a_day_of_a_year_not_set_up(client, platform_admin):
    response = client.post(
        "/admin/core/calendarday/add/",
        {"date": "2031-03-03", "kind": "holiday", "name": "x"},
    )
    assert response.status_code == 200
    assert "请先添加年度" in response.content.decode()


def test_admin_adds_a_year_with_its_days_and_marks_it_official(client, platform_admin):
    data = {
        "year": "2027",
        "source": "国办发明电〔2026〕9号",
        "note": "",
        **inline_management(total=2),
        "days-0-date": "2027-02-08",
        "days-0-kind": "holiday",
        "days-0-name": "春节",
        "days-1-date": "2027-02-20",
        "days-1-kind": "makeup_workday",
        "days-1-name": "春节",
    }
    response = client.post("/admin/core/calendaryear/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    year = CalendarYear.objects.get(year=2027)
    assert year.official is False and year.days.count() == 2
    assert is_working_day(D(2027, 2, 8)).working is False
    assert is_working_day(D(2027, 2, 8)).provisional is True

    response = client.post(
        "/admin/core/calendaryear/",
        {"action": "mark_official", "_selected_action": [year.pk]},
    )
    assert response.status_code == 302
    year.refresh_from_db()
    assert year.official is True
    assert is_working_day(D(2027, 2, 8)).provisional is False
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "core.calendar_year_create",
        "core.calendar_day_create",
        "core.calendar_year_mark_official",
    } <= actions


def test_admin_inline_refuses_a_day_outside_the_year(client, platform_admin):
    year = CalendarYear.objects.get(year=2026)
    data = {
        "official": "on",
        "source": year.source,
        "note": "",
        **inline_management(total=1),
        "days-0-date": "2025-12-31",
        "days-0-kind": "holiday",
        "days-0-name": "元旦",
    }
    response = client.post(f"/admin/core/calendaryear/{year.pk}/change/", data)
    assert response.status_code == 200
    assert "日期须在本年度之内" in response.content.decode()
    assert not CalendarDay.objects.filter(date=D(2025, 12, 31)).exists()


def test_mark_official_without_source_reports_the_reason(client, platform_admin):
    year = CalendarYear.objects.create(year=2027)
    response = client.post(
        "/admin/core/calendaryear/",
        {"action": "mark_official", "_selected_action": [year.pk]},
        follow=True,
    )
    year.refresh_from_db()
    assert year.official is False
    assert "须写明来源" in response.content.decode()


def test_calendar_year_list_shows_counts(client, platform_admin):
    response = client.get("/admin/core/calendaryear/")
    assert response.status_code == 200
    row = response.context["cl"].result_list.get(year=2026)
    assert row.makeups == 6  # 4 Jan, 14 and 28 Feb, 9 May, 20 Sep, 10 Oct
    assert row.holidays > 20
