from django.contrib import admin

from .models import Archive, ArchiveRecord, SharingRule


@admin.register(Archive)
class ArchiveAdmin(admin.ModelAdmin):
    list_display = ["kind", "enterprise", "person", "created_at"]
    list_filter = ["kind"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ArchiveRecord)
class ArchiveRecordAdmin(admin.ModelAdmin):
    list_display = ["kind", "department", "event_date", "recorded_on", "late"]
    list_filter = ["kind", "late"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SharingRule)
class SharingRuleAdmin(admin.ModelAdmin):
    list_display = ["viewer_department", "viewer_department_kind", "record_kind"]
