from django.contrib import admin

from .models import (
    Article,
    Column,
    DisclosureRequest,
    DisplayScreen,
    RegionPublishing,
    Subscription,
    Suggestion,
)

# Workflows go through the services (review, scheduling, deadlines, audit), so the admin
# shows records read-only; it is for looking, not for bypassing the rules.


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Column)
class ColumnAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "region", "is_active"]
    list_filter = ["kind", "region__level"]
    search_fields = ["name", "region__name", "region__code"]


@admin.register(RegionPublishing)
class RegionPublishingAdmin(ReadOnlyAdmin):
    list_display = ["region", "mode", "updated_at"]


@admin.register(Article)
class ArticleAdmin(ReadOnlyAdmin):
    list_display = ["title", "region", "column", "kind", "status", "mode", "publish_at"]
    list_filter = ["status", "kind", "mode", "region__level"]
    search_fields = ["title", "document_number"]
    exclude = ["body_source"]


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = ["region", "channel", "address_masked", "status", "created_at"]
    list_filter = ["status", "channel"]
    exclude = ["address_encrypted", "address_index", "confirm_code_hash", "confirm_token_hash"]


@admin.register(DisplayScreen)
class DisplayScreenAdmin(ReadOnlyAdmin):
    list_display = ["title", "service_point", "slide_seconds", "refresh_seconds"]


@admin.register(DisclosureRequest)
class DisclosureRequestAdmin(ReadOnlyAdmin):
    list_display = [
        "number",
        "region",
        "requester_category",
        "status",
        "received_on",
        "answered_on",
    ]
    list_filter = ["status", "answer_type", "requester_category"]
    search_fields = ["number"]
    exclude = [
        "id_number_encrypted",
        "phone_encrypted",
        "email_encrypted",
        "address_encrypted",
        "query_code_hash",
    ]


@admin.register(Suggestion)
class SuggestionAdmin(ReadOnlyAdmin):
    list_display = ["number", "region", "service_point", "status", "received_on", "answered_on"]
    list_filter = ["status", "channel"]
    exclude = ["contact_encrypted"]
