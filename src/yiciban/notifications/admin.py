from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from yiciban.core.errors import DomainError

from . import services
from .models import Notification, OutboxMessage, OutboxStatus


class OutboxMessageInline(admin.TabularInline):
    model = OutboxMessage
    fields = ["channel", "destination_masked", "status", "attempts", "sent_at", "last_error"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["subject", "kind", "recipient", "in_app", "created_at", "read_at"]
    list_filter = ["kind", "in_app"]
    search_fields = ["subject", "kind", "related_id"]
    readonly_fields = [f.name for f in Notification._meta.fields]
    inlines = [OutboxMessageInline]

    # Notifications are written by services (with their audit event), never by hand.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "channel",
        "destination_masked",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
    ]
    list_filter = ["status", "channel"]
    # The encrypted destination is not shown: the masked copy is enough to operate.
    exclude = ["destination_encrypted"]
    readonly_fields = [
        f.name for f in OutboxMessage._meta.fields if f.name != "destination_encrypted"
    ]
    actions = ["requeue_dead"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("重新发送所选已放弃的消息"))
    def requeue_dead(self, request, queryset):
        done = 0
        for message in queryset.filter(status=OutboxStatus.DEAD):
            try:
                services.outbox_message_requeue(actor=request.user, message_id=message.pk)
            except DomainError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return
            done += 1
        self.message_user(request, _("已重新排队%(n)d条消息") % {"n": done}, messages.SUCCESS)
