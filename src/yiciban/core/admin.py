"""Admin for the core tables. Calendar edits go through the services (validated, audited, and
the in-memory calendar dropped); the audit trail is read-only."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import admin as auth_admin
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from . import calendar, services
from .audit import record
from .errors import DomainError
from .models import AuditEvent, CalendarDay, CalendarDayKind, CalendarYear, User


@admin.register(User)
class UserAdmin(auth_admin.UserAdmin):
    """Django's user admin plus the display name. Other apps subclass this class (e.g. to add
    the staff roles inline) and register it again."""

    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("个人信息"), {"fields": ("display_name", "first_name", "last_name", "email")}),
        (
            _("权限"),
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                )
            },
        ),
        (_("重要日期"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "display_name", "password1", "password2"),
            },
        ),
    )
    list_display = ("username", "display_name", "email", "is_staff", "is_active")
    search_fields = ("username", "display_name", "first_name", "last_name", "email")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # Attributable like every other write; field names only, never the values (a
        # password hash or an e-mail address does not belong in the audit trail).
        record(
            actor=request.user,
            action="core.user_update" if change else "core.user_create",
            obj=obj,
            changes={"fields": sorted(form.changed_data)},
        )


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit trail, append-only: nobody adds, changes or deletes events here."""

    list_display = (
        "occurred_at",
        "action",
        "object_type",
        "object_id",
        "actor",
        "on_behalf_of",
        "channel",
        "client_address",
    )
    list_filter = ("action", "object_type", "occurred_at", "channel")
    date_hierarchy = "occurred_at"
    search_fields = ("action", "object_type", "object_id", "request_id", "actor__username")
    list_select_related = ("actor",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- working-day calendar ----------------------------------------------------------------
def _add_problems(form: forms.BaseForm, problems) -> None:
    for problem in problems:
        field = problem.field if problem.field in form.fields else None
        form.add_error(field, problem.message)


class CalendarYearForm(forms.ModelForm):
    class Meta:
        model = CalendarYear
        fields = ("year", "official", "source", "note")

    def clean(self):
        cleaned = super().clean()
        year = cleaned.get("year", self.instance.year)
        if year is not None:
            _add_problems(
                self,
                calendar.year_problems(
                    year=year,
                    official=cleaned.get("official", False),
                    source=cleaned.get("source", ""),
                ),
            )
        return cleaned


class CalendarDayForm(forms.ModelForm):
    # Off in the year's inline, where the year may be created in the same save.
    requires_existing_year = True

    class Meta:
        model = CalendarDay
        fields = ("date", "kind", "name")

    def clean(self):
        cleaned = super().clean()
        day, kind = cleaned.get("date"), cleaned.get("kind")
        if day and kind:
            _add_problems(
                self,
                calendar.day_problems(year=None, day=day, kind=kind, name=cleaned.get("name", "")),
            )
            missing = not CalendarYear.objects.filter(year=day.year).exists()
            if self.requires_existing_year and missing:
                self.add_error("date", _("该日期所属年度尚未建立，请先添加年度"))
        return cleaned


class CalendarDayInlineForm(CalendarDayForm):
    requires_existing_year = False


class CalendarDayInlineFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        year = self.instance.year
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or form.cleaned_data.get("DELETE"):
                continue
            day = form.cleaned_data.get("date")
            if day and year and day.year != year:
                form.add_error("date", _("日期须在本年度之内"))


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    form = CalendarDayInlineForm
    formset = CalendarDayInlineFormSet
    fields = ("date", "kind", "name", "working")
    readonly_fields = ("working",)
    extra = 1


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    form = CalendarYearForm
    inlines = [CalendarDayInline]
    list_display = ("year", "official", "source", "holiday_count", "makeup_count", "updated_at")
    list_filter = ("official",)
    search_fields = ("year", "source")
    actions = ["mark_official"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                holidays=Count("days", filter=_kind(CalendarDayKind.HOLIDAY)),
                makeups=Count("days", filter=_kind(CalendarDayKind.MAKEUP_WORKDAY)),
            )
        )

    @admin.display(description=_("放假天数"), ordering="holidays")
    def holiday_count(self, obj):
        return obj.holidays

    @admin.display(description=_("调休上班天数"), ordering="makeups")
    def makeup_count(self, obj):
        return obj.makeups

    def get_readonly_fields(self, request, obj=None):
        return ("year",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            saved = services.calendar_year_update(
                actor=request.user,
                calendar_year=obj,
                official=data["official"],
                source=data["source"],
                note=data["note"],
            )
        else:
            saved = services.calendar_year_create(
                actor=request.user,
                year=data["year"],
                official=data["official"],
                source=data["source"],
                note=data["note"],
            )
        # The admin goes on with `obj` (inlines, redirect): make it the saved row.
        obj.pk, obj.updated_at = saved.pk, saved.updated_at
        obj._state.adding = False

    def save_formset(self, request, form, formset, change):
        _save_days(request, formset)

    def delete_model(self, request, obj):
        services.calendar_year_delete(actor=request.user, calendar_year=obj)

    def delete_queryset(self, request, queryset):
        for year in queryset:
            services.calendar_year_delete(actor=request.user, calendar_year=year)

    @admin.action(description=_("确认为正式安排（已核对国务院办公厅通知）"))
    def mark_official(self, request, queryset):
        for year in queryset:
            try:
                services.calendar_year_mark_official(actor=request.user, calendar_year=year)
            except DomainError as exc:
                self.message_user(request, f"{year.year}：{exc}", messages.ERROR)
            else:
                self.message_user(request, _("%(y)d年已确认为正式安排") % {"y": year.year})


def _kind(kind: str) -> Q:
    return Q(days__kind=kind)


def _save_days(request, formset) -> None:
    """The inline's saves, through the services; fills the lists the admin's change message
    reads (what formset.save() would have set)."""
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
    for form in formset.deleted_forms:
        if form.instance.pk:
            services.calendar_day_delete(actor=request.user, day=form.instance)
            formset.deleted_objects.append(form.instance)
    for form in formset.forms:
        if form in formset.deleted_forms or not form.has_changed():
            continue
        data = form.cleaned_data
        if form.instance.pk:
            day = services.calendar_day_update(
                actor=request.user,
                day=form.instance,
                date=data["date"],
                kind=data["kind"],
                name=data["name"],
            )
            formset.changed_objects.append((day, form.changed_data))
        else:
            day = services.calendar_day_create(
                actor=request.user, date=data["date"], kind=data["kind"], name=data["name"]
            )
            formset.new_objects.append(day)


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    form = CalendarDayForm
    list_display = ("date", "weekday", "kind", "working", "name", "calendar_year")
    list_filter = ("kind", "working", "calendar_year")
    date_hierarchy = "date"
    search_fields = ("name",)
    list_select_related = ("calendar_year",)

    @admin.display(description=_("星期"))
    def weekday(self, obj):
        return "一二三四五六日"[obj.date.weekday()]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            saved = services.calendar_day_update(
                actor=request.user, day=obj, date=data["date"], kind=data["kind"], name=data["name"]
            )
        else:
            saved = services.calendar_day_create(
                actor=request.user, date=data["date"], kind=data["kind"], name=data["name"]
            )
        obj.pk, obj.calendar_year, obj.working = saved.pk, saved.calendar_year, saved.working
        obj._state.adding = False

    def delete_model(self, request, obj):
        services.calendar_day_delete(actor=request.user, day=obj)

    def delete_queryset(self, request, queryset):
        for day in queryset:
            services.calendar_day_delete(actor=request.user, day=day)
