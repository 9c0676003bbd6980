from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HousingConfig(AppConfig):
    name = "yiciban.housing"
    label = "housing"
    verbose_name = _("交房即交证")

    def ready(self) -> None:
        # Parties found to have filed false materials lose the green channel: the case
        # engine asks registered providers what it knows about an applicant.
        from yiciban.cases.hooks import register_applicant_record

        from .selectors import applicant_record

        register_applicant_record(applicant_record)
