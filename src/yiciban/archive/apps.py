from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ArchiveConfig(AppConfig):
    name = "yiciban.archive"
    label = "archive"
    verbose_name = _("一企一档")

    def ready(self) -> None:
        # The catalogue (layer 3) asks the archive what an applicant already gave through
        # this hook; registering here keeps the import pointing down.
        from yiciban.catalog.reuse import register_archive_lookup

        from .reuse import archive_lookup

        register_archive_lookup(archive_lookup)
