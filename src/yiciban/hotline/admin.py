"""Admin: categories, time limits and API clients are written through the services (so they
are validated and audited); tickets and knowledge entries are read-only here — they have
their own pages with the workflow."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from yiciban.core.errors import DomainError

from . import services
from .models import ApiClient, KnowledgeEntry, Ticket, TicketCategory, TicketTimeLimit


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(KnowledgeEntry)
class KnowledgeEntryAdmin(_ReadOnly):
    list_display = ["question", "department", "region", "source", "status", "updated_at"]
    list_filter = ["status", "source"]
    search_fields = ["question", "source_ref"]


@admin.register(Ticket)
class TicketAdmin(_ReadOnly):
    list_display = ["number", "kind", "title", "status", "department", "created_at"]
    list_filter = ["status", "kind", "channel"]
    search_fields = ["number", "title"]
    # Encrypted caller data is never shown; the masked number is enough.
    exclude = ["caller_phone_encrypted", "caller_phone_index", "caller_email_encrypted"]


def _report(request, call) -> bool:
    try:
        call()
    except DomainError as exc:
        messages.error(request, exc.message)
        return False
    return True


@admin.register(TicketCategory)
class TicketCategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "group", "default_department_kind", "is_active"]
    list_filter = ["kind", "is_active"]

    def has_delete_permission(self, request, obj=None):
        return False  # tickets refer to categories; deactivate instead

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        _report(
            request,
            lambda: services.ticket_category_save(
                actor=request.user,
                code=data["code"],
                name=data["name"],
                kind=data["kind"],
                group=data.get("group", ""),
                description=data.get("description", ""),
                keywords=data.get("keywords", ""),
                default_department_kind=data.get("default_department_kind", ""),
                location_required=data.get("location_required", False),
                attributes=data.get("attributes") or [],
                is_active=data.get("is_active", True),
                order=data.get("order", 100),
            ),
        )


@admin.register(TicketTimeLimit)
class TicketTimeLimitAdmin(admin.ModelAdmin):
    list_display = ["kind", "working_days"]

    def save_model(self, request, obj, form, change):
        _report(
            request,
            lambda: services.ticket_time_limit_set(
                actor=request.user, kind=obj.kind, working_days=obj.working_days
            ),
        )


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ["name", "region", "key_prefix", "is_active", "created_at", "last_used_at"]
    fields = ["name", "region"]
    actions = ["deactivate"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # tickets refer to their client; deactivate instead

    def save_model(self, request, obj, form, change):
        result = {}

        def create():
            result["client"], result["key"] = services.api_client_create(
                actor=request.user, name=obj.name, region=obj.region
            )

        if _report(request, create):
            obj.pk = result["client"].pk
            messages.warning(
                request,
                _("请立即保存接口密钥，它只显示这一次：%(k)s") % {"k": result["key"]},
            )

    @admin.action(description=_("停用所选客户端"))
    def deactivate(self, request, queryset):
        for client in queryset:
            _report(
                request,
                lambda c=client: services.api_client_deactivate(actor=request.user, client=c),
            )
