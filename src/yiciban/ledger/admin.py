from django.contrib import admin

from .models import Checkpoint, Entry, LedgerAlarm


class ReadOnlyAdmin(admin.ModelAdmin):
    """The log is append-only: the admin shows it, never changes it."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ["seq", "index", "kind", "producer", "appended_at"]
    list_filter = ["kind"]
    search_fields = ["producer", "payload_sha256"]
    exclude = ["payload"]  # may hold personal data; the log commits only to its hash


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ["id", "size", "created_at"]
    exclude = ["root_hash"]


@admin.register(LedgerAlarm)
class LedgerAlarmAdmin(ReadOnlyAdmin):
    list_display = ["raised_at", "code", "message"]
    list_filter = ["code"]
