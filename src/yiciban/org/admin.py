"""Admin for the organisation. Every save goes through the org services (validated, audited,
permission-checked); the forms run the services' own checks first so errors appear next to
the fields. Who sees what follows the roles, not Django's model permissions: platform
admins everything, a department admin their own department and its role assignments, the
admin of a government service centre (政务服务中心) the service points of its region.

The user admin gains the staff member's roles as an inline: it subclasses core's UserAdmin
and registers itself in its place."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yiciban.core.errors import DomainError

from . import selectors, services
from .models import Department, Region, RoleAssignment, ServicePoint

try:
    from yiciban.core.admin import UserAdmin as BaseUserAdmin
except ImportError:  # core registers no user admin of its own: build on Django's
    from django.contrib.auth.admin import UserAdmin as BaseUserAdmin


def add_domain_error(form: forms.BaseForm, exc: DomainError) -> None:
    """Show a service's refusal on the form: each field error beside its field."""
    if not exc.errors:
        form.add_error(None, str(exc.message))
    for error in exc.errors:
        field = error.field if error.field in form.fields else None
        form.add_error(field, str(error.message))


def adopt(target, saved) -> None:
    """Make the admin's unsaved instance the row a service saved, so the admin's own
    bookkeeping (log entry, redirect) sees the saved object."""
    for field in saved._meta.concrete_fields:
        setattr(target, field.attname, getattr(saved, field.attname))
    target._state.adding = False
    target._state.db = saved._state.db


class ServiceCheckedForm(forms.ModelForm):
    """A model form whose `clean` runs a service's checks. When they found a fault, the
    model's own generic constraint messages would only repeat it, so they are skipped."""

    actor = None  # the requesting user, set by the admin's get_form

    def _post_clean(self):
        if self._errors:
            return
        super()._post_clean()


class PlatformAdminOnly(admin.ModelAdmin):
    """Visible and editable for platform admins; nobody deletes (rows are referenced by
    cases, licences and audit events — deactivate instead)."""

    def has_module_permission(self, request):
        return selectors.is_platform_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return selectors.is_platform_admin(request.user)

    def has_add_permission(self, request):
        return selectors.is_platform_admin(request.user)

    def has_change_permission(self, request, obj=None):
        return selectors.is_platform_admin(request.user)

    def has_delete_permission(self, request, obj=None):
        return False


# --- regions --------------------------------------------------------------------------


class RegionForm(ServiceCheckedForm):
    class Meta:
        model = Region
        fields = ("code", "name", "level", "parent")

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None and not self.errors:
            try:
                services.validate_region_create(
                    code=cleaned.get("code", ""),
                    name=cleaned.get("name", ""),
                    level=cleaned.get("level", ""),
                    parent=cleaned.get("parent"),
                )
            except DomainError as exc:
                add_domain_error(self, exc)
        return cleaned


@admin.register(Region)
class RegionAdmin(PlatformAdminOnly):
    form = RegionForm
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")
    autocomplete_fields = ("parent",)
    list_select_related = ("parent",)
    list_per_page = 50

    def has_view_permission(self, request, obj=None):
        # every member of staff may look regions up (autocomplete in other admins needs it)
        return bool(request.user.is_active and request.user.is_staff)

    def get_readonly_fields(self, request, obj=None):
        return ("code", "level", "parent", "path") if obj is not None else ("path",)

    def save_model(self, request, obj, form, change):
        if change:
            services.region_update(actor=request.user, region=obj, name=obj.name)
        else:
            adopt(
                obj,
                services.region_create(
                    actor=request.user,
                    code=obj.code,
                    name=obj.name,
                    level=obj.level,
                    parent=obj.parent,
                ),
            )


# --- departments ----------------------------------------------------------------------


class DepartmentForm(ServiceCheckedForm):
    class Meta:
        model = Department
        fields = ("region", "name", "short_name", "kind", "uscc", "is_active")

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            instance = self.instance if self.instance.pk else None
            try:
                services.validate_department(
                    region=cleaned.get("region", getattr(instance, "region", None)),
                    name=cleaned.get("name", ""),
                    kind=cleaned.get("kind", getattr(instance, "kind", "")),
                    uscc=cleaned.get("uscc", ""),
                    short_name=cleaned.get("short_name", ""),
                    instance=instance,
                )
            except DomainError as exc:
                add_domain_error(self, exc)
        return cleaned


@admin.register(Department)
class DepartmentAdmin(PlatformAdminOnly):
    form = DepartmentForm
    list_display = ("name", "kind", "region", "uscc", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "short_name", "uscc", "region__name", "region__code")
    autocomplete_fields = ("region",)
    list_select_related = ("region",)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if selectors.is_platform_admin(request.user):
            return queryset
        return queryset.filter(pk__in=selectors.administered_departments(request.user))

    def has_module_permission(self, request):
        return selectors.administered_departments(request.user).exists()

    def has_view_permission(self, request, obj=None):
        if obj is None:
            return bool(request.user.is_active and request.user.is_staff)
        return selectors.can_edit_department(request.user, department=obj)

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return self.has_module_permission(request)
        return selectors.can_edit_department(request.user, department=obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        if selectors.is_platform_admin(request.user):
            return ("region",)
        return ("region", "kind", "is_active")

    def save_model(self, request, obj, form, change):
        if change:
            changed = {name: form.cleaned_data[name] for name in form.changed_data}
            services.department_update(actor=request.user, department=obj, **changed)
        else:
            adopt(
                obj,
                services.department_create(
                    actor=request.user,
                    region=obj.region,
                    name=obj.name,
                    kind=obj.kind,
                    uscc=obj.uscc,
                    short_name=obj.short_name,
                ),
            )


# --- service points -------------------------------------------------------------------


class ServicePointForm(ServiceCheckedForm):
    class Meta:
        model = ServicePoint
        fields = (
            "code",
            "name",
            "kind",
            "region",
            "address",
            "opening_hours",
            "phone",
            "latitude",
            "longitude",
            "is_active",
        )

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            instance = self.instance if self.instance.pk else None
            try:
                services.validate_service_point(
                    code=cleaned.get("code", getattr(instance, "code", "")),
                    name=cleaned.get("name", ""),
                    kind=cleaned.get("kind", ""),
                    region=cleaned.get("region"),
                    address=cleaned.get("address", ""),
                    opening_hours=cleaned.get("opening_hours", ""),
                    latitude=cleaned.get("latitude"),
                    longitude=cleaned.get("longitude"),
                    instance=instance,
                )
            except DomainError as exc:
                add_domain_error(self, exc)
            region = cleaned.get("region")
            if region is not None and not selectors.can_manage_service_points(
                self.actor, region=region
            ):
                self.add_error("region", _("您不能管理该区域的服务网点"))
        return cleaned


@admin.register(ServicePoint)
class ServicePointAdmin(PlatformAdminOnly):
    form = ServicePointForm
    list_display = ("code", "name", "kind", "region", "opening_hours", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name", "address", "region__name", "region__code")
    autocomplete_fields = ("region",)
    list_select_related = ("region",)

    def _managed(self, request):
        return selectors.service_point_manager_regions(request.user)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        regions = self._managed(request)
        if regions is None:
            return queryset
        condition = Q(pk__in=[])
        for region in regions:
            condition |= Q(region__path__startswith=region.path)
        return queryset.filter(condition)

    def has_module_permission(self, request):
        regions = self._managed(request)
        return regions is None or bool(regions)

    def has_view_permission(self, request, obj=None):
        if obj is None:
            # staff pick points in other admins (a clerk's desk), so they may look them up
            return bool(request.user.is_active and request.user.is_staff)
        return selectors.can_manage_service_points(request.user, region=obj.region)

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return self.has_module_permission(request)
        return selectors.can_manage_service_points(request.user, region=obj.region)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user
        return form

    def get_readonly_fields(self, request, obj=None):
        return ("code",) if obj is not None else ()

    def get_exclude(self, request, obj=None):
        # a new point is open; closing it is a change
        return ("is_active",) if obj is None else ()

    def save_model(self, request, obj, form, change):
        if change:
            changed = {name: form.cleaned_data[name] for name in form.changed_data}
            services.service_point_update(actor=request.user, point=obj, **changed)
        else:
            adopt(obj, services.service_point_create(actor=request.user, **form.cleaned_data))


# --- role assignments -----------------------------------------------------------------


class RoleAssignmentForm(ServiceCheckedForm):
    class Meta:
        model = RoleAssignment
        fields = ("user", "role", "department", "region", "service_point", "valid_until")

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is not None or self.errors:
            return cleaned
        user = cleaned.get("user") or getattr(self.instance, "user", None)
        department = cleaned.get("department")
        try:
            services.validate_role_assignment(
                user=user,
                role=cleaned.get("role", ""),
                department=department,
                region=cleaned.get("region"),
                service_point=cleaned.get("service_point"),
                valid_until=cleaned.get("valid_until"),
            )
        except DomainError as exc:
            add_domain_error(self, exc)
        if self.actor is not None and not selectors.can_assign_roles(
            self.actor, department=department
        ):
            self.add_error("department" if department else None, _("您只能在本部门范围内授予角色"))
        return cleaned


def _revoke_all(request, assignments) -> None:
    for assignment in assignments:
        try:
            services.role_revoke(actor=request.user, assignment=assignment)
        except DomainError as exc:
            messages.error(request, f"{assignment}：{exc.message}")


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(PlatformAdminOnly):
    """Assign and revoke roles. An assignment is never edited in place: revoke it and
    assign the new one, so the audit trail shows both."""

    form = RoleAssignmentForm
    list_display = ("user", "role", "department", "region", "service_point", "valid_until")
    list_filter = ("role",)
    search_fields = (
        "user__username",
        "user__display_name",
        "department__name",
        "region__name",
        "region__code",
    )
    autocomplete_fields = ("user", "department", "region", "service_point")
    list_select_related = ("user", "department", "region", "service_point")

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if selectors.is_platform_admin(request.user):
            return queryset
        return queryset.filter(department__in=selectors.administered_departments(request.user))

    def has_module_permission(self, request):
        return selectors.administered_departments(request.user).exists()

    def has_view_permission(self, request, obj=None):
        if obj is None:
            return self.has_module_permission(request)
        return selectors.can_assign_roles(request.user, department=obj.department)

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        if obj is None:
            return self.has_module_permission(request)
        return selectors.can_assign_roles(request.user, department=obj.department)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user
        if not selectors.is_platform_admin(request.user) and "department" in form.base_fields:
            form.base_fields["department"].queryset = selectors.administered_departments(
                request.user
            )
        return form

    def save_model(self, request, obj, form, change):
        adopt(
            obj,
            services.role_assign(
                actor=request.user,
                user=obj.user,
                role=obj.role,
                department=obj.department,
                region=obj.region,
                service_point=obj.service_point,
                valid_until=obj.valid_until,
            ),
        )

    def delete_model(self, request, obj):
        _revoke_all(request, [obj])

    def delete_queryset(self, request, queryset):
        _revoke_all(request, list(queryset))


class RoleAssignmentInline(admin.TabularInline):
    """The staff member's roles on the user page: add and revoke; existing rows read-only."""

    model = RoleAssignment
    form = RoleAssignmentForm
    fk_name = "user"
    fields = ("role", "department", "region", "service_point", "valid_until")
    autocomplete_fields = ("department", "region", "service_point")
    extra = 0
    verbose_name = _("角色")
    verbose_name_plural = _("角色与范围")

    def has_view_permission(self, request, obj=None):
        return selectors.is_platform_admin(request.user)

    def has_add_permission(self, request, obj=None):
        return selectors.is_platform_admin(request.user)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return selectors.is_platform_admin(request.user)


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(BaseUserAdmin):
    inlines = [*getattr(BaseUserAdmin, "inlines", ()), RoleAssignmentInline]

    # Platform admins manage staff logins whether or not they hold Django's model
    # permissions; only a superuser makes superusers or hands out raw permissions.
    def has_module_permission(self, request):
        return selectors.is_platform_admin(request.user) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return selectors.is_platform_admin(request.user) or super().has_view_permission(
            request, obj
        )

    def has_add_permission(self, request):
        return selectors.is_platform_admin(request.user) or super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return selectors.is_platform_admin(request.user) or super().has_change_permission(
            request, obj
        )

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += ("is_superuser", "groups", "user_permissions")
        return fields

    def get_inlines(self, request, obj):
        # roles are given to an existing login, not on the add form
        return super().get_inlines(request, obj) if obj is not None else []

    def save_formset(self, request, form, formset, change):
        if formset.model is not RoleAssignment:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)
        _revoke_all(request, formset.deleted_objects)
        for new in formset.new_objects:
            try:
                services.role_assign(
                    actor=request.user,
                    user=form.instance,
                    role=new.role,
                    department=new.department,
                    region=new.region,
                    service_point=new.service_point,
                    valid_until=new.valid_until,
                )
            except DomainError as exc:
                messages.error(request, str(exc.message))
        return None
