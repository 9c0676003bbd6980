from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LicencesConfig(AppConfig):
    name = "yiciban.licences"
    label = "licences"
    verbose_name = _("电子证照")

    def ready(self) -> None:
        # Cache invalidation only (no business logic): the public verification keeps
        # licence types and departments per process (selectors.REFERENCE_SECONDS).
        from django.db.models.signals import post_delete, post_save

        from yiciban.org.models import Department

        from .models import LicenceType
        from .selectors import forget_reference_rows

        for model in (Department, LicenceType):
            post_save.connect(forget_reference_rows, sender=model, weak=False)
            post_delete.connect(forget_reference_rows, sender=model, weak=False)
