from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HotlineConfig(AppConfig):
    name = "yiciban.hotline"
    label = "hotline"
    verbose_name = _("12345热线")
    # Picked up by yiciban.web.sections (a lower layer cannot import the web app).
    home_sections = [
        {
            "key": "hotline_knowledge",
            "title": _("12345知识库"),
            "description": _("输入问题，即时查到办事答复"),
            "url_name": "hotline:index",
            "audience": "public",
            "order": 40,
        },
        {
            "key": "hotline_my_tickets",
            "title": _("我的诉求"),
            "description": _("在线提交咨询、投诉、求助、建议，查看办理进度"),
            "url_name": "hotline:my_tickets",
            "audience": "public",
            "order": 41,
        },
        {
            "key": "hotline_console",
            "title": _("12345话务台"),
            "description": _("登记来电，查知识库答复或派单"),
            "url_name": "hotline:console",
            "audience": "staff",
            "order": 40,
        },
        {
            "key": "hotline_queue",
            "title": _("部门12345工单"),
            "description": _("派给本部门的工单，按紧急程度排列"),
            "url_name": "hotline:queue",
            "audience": "staff",
            "order": 41,
        },
        {
            "key": "hotline_board",
            "title": _("12345监督看板"),
            "description": _("超期、退回工单和各部门按时率"),
            "url_name": "hotline:board",
            "audience": "staff",
            "order": 42,
        },
    ]
