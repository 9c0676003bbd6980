from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "yiciban.catalog"
    label = "catalog"
    verbose_name = _("事项清单")
    # Picked up by yiciban.web.sections (a lower layer cannot import the web app).
    home_sections = [
        {
            "key": "catalog",
            "title": _("办事指南"),
            "description": _(
                "按部门、人生事件、企业主题或服务网点查找事项，查看要带的材料和办理时限"
            ),
            "url_name": "catalog:index",
            "audience": "public",
            "order": 1,
        },
        {
            "key": "catalog_bundles",
            "title": _("一件事一次办"),
            "description": _("回答几个问题，一次看清要办哪些证、交哪些材料、多久办完"),
            "url_name": "catalog:bundles",
            "audience": "public",
            "order": 2,
        },
    ]
