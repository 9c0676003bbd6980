from django.contrib import admin

from .models import Licence, LicenceType


@admin.register(LicenceType)
class LicenceTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "department_kind", "validity_years", "is_business_licence"]
    search_fields = ["code", "name"]


@admin.register(Licence)
class LicenceAdmin(admin.ModelAdmin):
    """Read-only: licences change only through the services, which re-sign them."""

    list_display = ["number", "licence_type", "holder_name", "issuing_department", "status"]
    list_filter = ["status", "licence_type"]
    search_fields = ["number", "holder_name", "holder_identifier"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
