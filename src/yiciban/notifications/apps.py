from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


class NotificationsConfig(AppConfig):
    name = "yiciban.notifications"
    label = "notifications"
    verbose_name = _("消息通知")
    # Read by yiciban.web (a higher layer) to link the inbox from the home page and header.
    home_sections = [
        {
            "key": "notifications",
            "title": _("我的消息"),
            "description": _("办件受理、补正、审批结果等通知"),
            "url_name": "notifications:inbox",
            "audience": "public",
            "order": 90,
            "visible": _signed_in,
        }
    ]
