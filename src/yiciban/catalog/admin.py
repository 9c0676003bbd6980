"""Catalogue administration. Every save goes through the catalogue services (validated,
audited, permission-checked); published versions are shown read-only — to change one,
create a draft from it (action on the item), edit, and publish."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiciban.core.errors import DomainError

from . import services
from .content import ITEM_VERSION_FIELDS, MATERIAL_DEFAULTS, item_version_content
from .models import (
    Bundle,
    BundleMember,
    BundleVersion,
    DataElement,
    Item,
    ItemMaterial,
    ItemVersion,
    MaterialKind,
    Theme,
    VersionStatus,
)


def _report(modeladmin, request, exc: DomainError) -> None:
    details = "；".join(f"{e.field}: {e.message}" for e in exc.errors[:5])
    modeladmin.message_user(
        request, f"{exc.message}{'（' + details + '）' if details else ''}", messages.ERROR
    )


class ServiceSavedAdmin(admin.ModelAdmin):
    """Runs the form's save through a service; the service's refusal becomes a form error
    (raised in clean) so nothing is half-saved and the user sees why. Subclasses define
    `save_with_service(request, obj, form, change, *, dry_run)`: with dry_run it only checks,
    otherwise it calls the service and returns the saved object."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)
        modeladmin = self

        class ServiceForm(form_class):
            def clean(self):
                cleaned = super().clean()
                if not self.errors:
                    try:
                        self.instance._saved_by_service = modeladmin.save_with_service(
                            request, self.instance, self, change, dry_run=True
                        )
                    except DomainError as exc:
                        for error in exc.errors or []:
                            name = error.field.split(".")[0].split("[")[0]
                            self.add_error(name if name in self.fields else None, error.message)
                        if not exc.errors:
                            self.add_error(None, exc.message)
                return cleaned

        return ServiceForm

    def save_model(self, request, obj, form, change):
        saved = self.save_with_service(request, obj, form, change, dry_run=False)
        if saved is not None and saved.pk:
            obj.pk = saved.pk


@admin.register(Theme)
class ThemeAdmin(ServiceSavedAdmin):
    list_display = ("code", "name", "audience", "order")
    list_filter = ("audience",)
    search_fields = ("code", "name")

    def get_readonly_fields(self, request, obj=None):
        return ("code", "audience") if obj else ()

    def save_with_service(self, request, obj, form, change, *, dry_run):
        data = form.cleaned_data
        if dry_run:
            return None
        if change:
            return services.theme_update(
                actor=request.user,
                theme=obj,
                name=data["name"],
                order=data["order"],
                description=data["description"],
            )
        return services.theme_create(
            actor=request.user,
            code=data["code"],
            name=data["name"],
            audience=data["audience"],
            order=data["order"],
            description=data["description"],
        )


@admin.register(DataElement)
class DataElementAdmin(ServiceSavedAdmin):
    list_display = ("code", "label", "value_type", "personal")
    list_filter = ("personal",)
    search_fields = ("code", "label")

    def get_readonly_fields(self, request, obj=None):
        return ("code",) if obj else ()

    def save_with_service(self, request, obj, form, change, *, dry_run):
        data = form.cleaned_data
        if dry_run:
            from .validation import check_element

            content = {"code": obj.code if change else data["code"], **data}
            problems = check_element(content)
            if problems:
                services._raise_problems(problems)
            return None
        if change:
            return services.data_element_update(
                actor=request.user,
                element=obj,
                label=data["label"],
                schema=data["schema"],
                description=data["description"],
                personal=data["personal"],
            )
        return services.data_element_create(actor=request.user, **data)


@admin.register(MaterialKind)
class MaterialKindAdmin(ServiceSavedAdmin):
    list_display = ("code", "name", "source", "data_category")
    list_filter = ("source",)
    search_fields = ("code", "name", "data_category")

    def get_readonly_fields(self, request, obj=None):
        return ("code",) if obj else ()

    def save_with_service(self, request, obj, form, change, *, dry_run):
        data = dict(form.cleaned_data)
        if dry_run:
            content = {"code": obj.code if change else data.get("code"), **data}
            services._raise_problems(services.check_material_kind(content))
            return None
        if change:
            data.pop("code", None)
            return services.material_kind_update(actor=request.user, kind=obj, **data)
        return services.material_kind_create(actor=request.user, **data)


class ItemVersionInline(admin.TabularInline):
    model = ItemVersion
    fields = ("version_link", "status", "effective_from", "effective_until", "published_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    @admin.display(description=gettext_lazy("版本"))
    def version_link(self, obj):
        return format_html(
            '<a href="../../itemversion/{}/change/">{} v{}</a>', obj.pk, obj.name, obj.number
        )

    def has_add_permission(self, request, obj=None):
        return False


class ItemAdminForm(forms.ModelForm):
    class Meta:
        model = Item
        fields = (
            "department",
            "basic_code",
            "business_item_code",
            "name",
            "themes",
            "service_points",
            "cross_province_partners",
        )


@admin.register(Item)
class ItemAdmin(ServiceSavedAdmin):
    form = ItemAdminForm
    list_display = ("name", "implementation_code", "department")
    list_filter = ("department__kind", "department__region")
    search_fields = ("name", "implementation_code", "basic_code")
    autocomplete_fields = ()
    filter_horizontal = ("themes", "service_points")
    inlines = (ItemVersionInline,)
    actions = ("create_draft",)

    def get_inlines(self, request, obj):
        return self.inlines if obj else ()  # a new item's draft appears once it is saved

    def get_readonly_fields(self, request, obj=None):
        if obj:
            return ("implementation_code", "department", "basic_code", "business_item_code", "name")
        return ()

    def get_fields(self, request, obj=None):
        fields = list(ItemAdminForm.Meta.fields)
        return (["implementation_code", *fields]) if obj else fields

    def save_with_service(self, request, obj, form, change, *, dry_run):
        data = form.cleaned_data
        if dry_run:
            if not change and not services.may_edit_item(request.user, data["department"]):
                raise DomainError(_("无权维护该部门的事项"))
            return None
        if change:
            return services.item_places_set(
                actor=request.user,
                item=obj,
                service_points=data["service_points"],
                cross_province_partners=data["cross_province_partners"],
                themes=data["themes"],
            )
        return services.item_create(
            actor=request.user,
            department=data["department"],
            basic_code=data["basic_code"],
            business_item_code=data["business_item_code"],
            name=data["name"],
            themes=data["themes"],
        )

    def save_related(self, request, form, formsets, change):
        # themes and service points were set by the service; the inline is read-only
        if not change:
            item = Item.objects.get(pk=form.instance.pk)
            services.item_places_set(
                actor=request.user,
                item=item,
                service_points=form.cleaned_data["service_points"],
                cross_province_partners=form.cleaned_data["cross_province_partners"],
            )

    @admin.action(description=gettext_lazy("基于最新版本新建草稿"))
    def create_draft(self, request, queryset):
        for item in queryset:
            try:
                services.item_version_draft_create(actor=request.user, item=item)
            except DomainError as exc:
                _report(self, request, exc)


class ItemMaterialInline(admin.TabularInline):
    model = ItemMaterial
    fields = ("order", "kind", "requirement", "deferrable", "copies", "note")
    autocomplete_fields = ("kind",)
    extra = 0

    def _editable(self, obj) -> bool:
        return obj is not None and obj.status == VersionStatus.DRAFT

    def has_add_permission(self, request, obj=None):
        return self._editable(obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj)


@admin.register(ItemVersion)
class ItemVersionAdmin(ServiceSavedAdmin):
    list_display = ("name", "number", "status", "effective_from", "effective_until", "item")
    list_filter = ("status", "item_type", "approval_mode", "risk_tier")
    search_fields = ("name", "item__implementation_code", "keywords")
    inlines = (ItemMaterialInline,)
    actions = ("publish", "withdraw")
    fields = ("item", "number", "status", "effective_from", "effective_until", *ITEM_VERSION_FIELDS)

    def get_readonly_fields(self, request, obj=None):
        lifecycle = ("item", "number", "status", "effective_from", "effective_until")
        if obj is None or obj.status == VersionStatus.DRAFT:
            return lifecycle
        return self.fields

    def has_add_permission(self, request):
        return False  # drafts are created from an item (action "基于最新版本新建草稿")

    def has_delete_permission(self, request, obj=None):
        return False

    def save_with_service(self, request, obj, form, change, *, dry_run):
        changes = {k: form.cleaned_data[k] for k in form.changed_data if k in ITEM_VERSION_FIELDS}
        if dry_run:
            from .validation import check_item_version

            stored = ItemVersion.objects.get(pk=obj.pk)
            content = {**item_version_content(stored), **changes}
            problems = check_item_version(
                content,
                basic_code=obj.item.basic_code,
                elements=services.element_fragments(),
                material_kinds=MaterialKind.objects.values_list("code", flat=True),
            )
            services._raise_problems(
                [p for p in problems if p.path.split(".")[0].split("[")[0] in changes]
            )
            return None
        if changes:
            return services.item_version_update(actor=request.user, version=obj, **changes)
        return obj

    def save_formset(self, request, form, formset, change):
        rows = [
            f.cleaned_data
            for f in formset.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        rows.sort(key=lambda r: r.get("order") or 0)
        materials = [
            {
                **MATERIAL_DEFAULTS,
                "kind": r["kind"].code,
                "requirement": r["requirement"],
                "deferrable": r["deferrable"],
                "copies": r["copies"],
                "note": r["note"],
            }
            for r in rows
        ]
        try:
            services.item_materials_set(
                actor=request.user, version=form.instance, materials=materials
            )
        except DomainError as exc:
            _report(self, request, exc)

    @admin.action(description=gettext_lazy("发布所选草稿（今日生效）"))
    def publish(self, request, queryset):
        for version in queryset.select_related("item__department"):
            try:
                services.item_version_publish(actor=request.user, version=version)
                self.message_user(request, _("已发布：%(v)s") % {"v": version})
            except DomainError as exc:
                _report(self, request, exc)

    @admin.action(description=gettext_lazy("撤销所选已发布版本（今日起停止）"))
    def withdraw(self, request, queryset):
        for version in queryset.select_related("item__department"):
            try:
                services.item_version_withdraw(actor=request.user, version=version)
            except DomainError as exc:
                _report(self, request, exc)


class BundleVersionInline(admin.TabularInline):
    model = BundleVersion
    fields = ("version_link", "status", "effective_from", "effective_until")
    readonly_fields = fields
    extra = 0
    can_delete = False

    @admin.display(description=gettext_lazy("版本"))
    def version_link(self, obj):
        return format_html(
            '<a href="../../bundleversion/{}/change/">{} v{}</a>', obj.pk, obj.name, obj.number
        )

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Bundle)
class BundleAdmin(ServiceSavedAdmin):
    list_display = ("name", "code", "region", "audience")
    list_filter = ("audience",)
    search_fields = ("name", "code")
    fields = ("code", "region", "audience", "name", "themes")
    filter_horizontal = ("themes",)
    inlines = (BundleVersionInline,)
    actions = ("create_draft",)

    def get_inlines(self, request, obj):
        return self.inlines if obj else ()

    def get_readonly_fields(self, request, obj=None):
        return ("code", "region", "audience", "name", "themes") if obj else ()

    def save_with_service(self, request, obj, form, change, *, dry_run):
        if dry_run or change:
            return None
        data = form.cleaned_data
        return services.bundle_create(
            actor=request.user,
            code=data["code"],
            region=data["region"],
            audience=data["audience"],
            name=data["name"],
            themes=data["themes"],
        )

    def save_related(self, request, form, formsets, change):
        return None  # themes were set by the service

    @admin.action(description=gettext_lazy("基于最新版本新建草稿"))
    def create_draft(self, request, queryset):
        for bundle in queryset:
            try:
                services.bundle_version_draft_create(actor=request.user, bundle=bundle)
            except DomainError as exc:
                _report(self, request, exc)


class BundleMemberInline(admin.TabularInline):
    model = BundleMember
    fields = ("order", "item", "role", "rule", "reason", "depends_on")
    autocomplete_fields = ("item",)
    extra = 0

    def _editable(self, obj) -> bool:
        return obj is not None and obj.status == VersionStatus.DRAFT

    def has_add_permission(self, request, obj=None):
        return self._editable(obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj)


@admin.register(BundleVersion)
class BundleVersionAdmin(ServiceSavedAdmin):
    list_display = ("name", "number", "status", "effective_from", "effective_until", "bundle")
    list_filter = ("status",)
    search_fields = ("name", "bundle__code")
    inlines = (BundleMemberInline,)
    actions = ("publish", "withdraw")
    fields = (
        "bundle",
        "number",
        "status",
        "effective_from",
        "effective_until",
        "name",
        "summary",
        "promised_limit",
        "questionnaire",
    )

    def get_readonly_fields(self, request, obj=None):
        lifecycle = ("bundle", "number", "status", "effective_from", "effective_until")
        if obj is None or obj.status == VersionStatus.DRAFT:
            return lifecycle
        return self.fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_with_service(self, request, obj, form, change, *, dry_run):
        if dry_run:
            return None  # the service checks the whole version, members included
        data = form.cleaned_data
        try:
            return services.bundle_version_update(
                actor=request.user,
                version=obj,
                name=data["name"],
                summary=data["summary"],
                promised_limit=data["promised_limit"],
                questionnaire=data["questionnaire"],
            )
        except DomainError as exc:
            _report(self, request, exc)
            return obj

    def save_formset(self, request, form, formset, change):
        rows = [
            f.cleaned_data
            for f in formset.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        rows.sort(key=lambda r: r.get("order") or 0)
        members = [
            {
                "item": r["item"].implementation_code,
                "role": r["role"],
                "rule": r["rule"],
                "reason": r["reason"],
                "depends_on": r["depends_on"] or [],
            }
            for r in rows
        ]
        try:
            services.bundle_members_set(actor=request.user, version=form.instance, members=members)
        except DomainError as exc:
            _report(self, request, exc)

    @admin.action(description=gettext_lazy("发布所选草稿（今日生效）"))
    def publish(self, request, queryset):
        for version in queryset:
            try:
                services.bundle_version_publish(actor=request.user, version=version)
                self.message_user(request, _("已发布：%(v)s") % {"v": version})
            except DomainError as exc:
                _report(self, request, exc)

    @admin.action(description=gettext_lazy("撤销所选已发布版本（今日起停止）"))
    def withdraw(self, request, queryset):
        for version in queryset:
            try:
                services.bundle_version_withdraw(actor=request.user, version=version)
            except DomainError as exc:
                _report(self, request, exc)
