from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpennessConfig(AppConfig):
    name = "yiciban.openness"
    label = "openness"
    verbose_name = _("政务公开")
    # Picked up by yiciban.web.sections (a lower layer cannot import the web app).
    home_sections = [
        {
            "key": "openness_portal",
            "title": _("政务公开"),
            "description": _("县、乡镇、村三级公开的政策、财务、民生资金等信息，可订阅"),
            "url_name": "openness:portal",
            "audience": "public",
            "order": 30,
        },
        {
            "key": "openness_disclosure",
            "title": _("依申请公开"),
            "description": _("申请公开政府信息，20个工作日内答复，可查询办理进度"),
            "url_name": "openness:disclosure",
            "audience": "public",
            "order": 31,
        },
        {
            "key": "openness_suggestions",
            "title": _("意见箱"),
            "description": _("提出意见建议，查看已公开的答复"),
            "url_name": "openness:suggestions",
            "audience": "public",
            "order": 32,
        },
        {
            "key": "openness_staff",
            "title": _("政务公开工作台"),
            "description": _("起草、审核、发布和撤回公开信息，办理依申请公开和意见箱"),
            "url_name": "openness:staff",
            "audience": "staff",
            "order": 30,
        },
    ]
