"""Admin for the case engine: read-only. Cases change only through the services (the API
and the pages), so that every change follows the transition table, is locked, audited and
notified; the admin is for looking things up. API tokens can be revoked here."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from yiciban.core.errors import DomainError

from . import services
from .models import (
    ApiToken,
    Case,
    CaseEvent,
    CaseItem,
    CaseMaterial,
    ProcessTemplate,
    Task,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CaseItemInline(ReadOnlyInline):
    model = CaseItem
    fields = ("name", "department", "state", "step", "started_on", "limit", "due_on", "suspended")
    readonly_fields = fields


class CaseMaterialInline(ReadOnlyInline):
    model = CaseMaterial
    fields = ("name", "requirement", "status", "document", "due_on")
    readonly_fields = fields


class CaseEventInline(ReadOnlyInline):
    model = CaseEvent
    fk_name = "case"
    fields = ("occurred_at", "kind", "actor", "on_behalf_of", "note")
    readonly_fields = fields


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ("number", "title", "state", "channel", "region", "submitted_at")
    list_filter = ("state", "channel", "green_channel")
    search_fields = ("number", "title")
    date_hierarchy = "submitted_at"
    list_select_related = ("region",)
    exclude = ("answers", "form_data")
    inlines = [CaseItemInline, CaseMaterialInline, CaseEventInline]


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = ("case", "kind", "role", "department", "state", "assignee", "due_on")
    list_filter = ("kind", "state", "role")
    search_fields = ("case__number",)
    list_select_related = ("case", "department", "assignee")


@admin.register(ProcessTemplate)
class ProcessTemplateAdmin(ReadOnlyAdmin):
    list_display = ("code", "version", "name", "flow", "created_at")
    list_filter = ("flow",)


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    search_fields = ("name", "user__username", "prefix")
    readonly_fields = ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    exclude = ("token_hash",)
    actions = ["revoke"]

    @admin.action(description=_("撤销所选令牌"))
    def revoke(self, request, queryset):
        for token in queryset:
            try:
                services.api_token_revoke(actor=request.user, token_id=token.pk)
            except DomainError as exc:
                self.message_user(request, str(exc), level=messages.ERROR)
                return
        self.message_user(request, _("令牌已撤销"))

    def has_change_permission(self, request, obj=None):
        # the action needs change permission; the form itself stays read-only
        return request.user.is_superuser
