from django.contrib import admin
from django.utils.translation import gettext_lazy as _

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
    list_display = ["seq", "log_index", "kind", "producer", "appended_at"]
    list_filter = ["kind"]
    list_select_related = ["position"]
    search_fields = ["producer", "payload_sha256"]
    exclude = ["payload"]  # may hold personal data; the log commits only to its hash

    @admin.display(description=_("日志序号"), ordering="position__index")
    def log_index(self, obj):
        return obj.index


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ["id", "size", "created_at"]
    exclude = ["root_hash"]


@admin.register(LedgerAlarm)
class LedgerAlarmAdmin(ReadOnlyAdmin):
    list_display = ["raised_at", "code", "message"]
    list_filter = ["code"]
