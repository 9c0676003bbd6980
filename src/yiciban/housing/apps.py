from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HousingConfig(AppConfig):
    name = "yiciban.housing"
    label = "housing"
    verbose_name = _("交房即交证")
    # Picked up by yiciban.web.sections (a lower layer cannot import the web app).
    home_sections = [
        {
            "key": "housing_mine",
            "title": _("我的新房"),
            "description": _("购房人查看交房即交证进度和不动产权证书"),
            "url_name": "housing:mine",
            "audience": "public",
            "order": 60,
        },
        {
            "key": "housing_projects",
            "title": _("交房即交证"),
            "description": _("商品房项目从预售到交房领证的全过程，合同与契税在备案前核验"),
            "url_name": "housing:projects",
            "audience": "staff",
            "order": 60,
        },
    ]

    def ready(self) -> None:
        # Parties found to have filed false materials lose the green channel: the case
        # engine asks registered providers what it knows about an applicant.
        from yiciban.cases.hooks import register_applicant_record

        from .selectors import applicant_record

        register_applicant_record(applicant_record)
