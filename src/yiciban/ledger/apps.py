from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "yiciban.ledger"
    label = "ledger"
    verbose_name = _("可验证共享账本")
