from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "yiciban.cases"
    label = "cases"
    verbose_name = _("办件")
    # Picked up by yiciban.web.sections (a lower layer cannot import the web app).
    home_sections = [
        {
            "key": "cases_mine",
            "title": _("我的办件"),
            "description": _("查看申请的办理进度、到期日和需要补正的内容"),
            "url_name": "cases:my_cases",
            "audience": "public",
            "order": 35,
        },
        {
            "key": "cases_counter",
            "title": _("综合受理"),
            "description": _("查询申请人、代为申请、受理、一次性告知、一窗出件"),
            "url_name": "cases:counter",
            "audience": "staff",
            "order": 30,
        },
        {
            "key": "cases_queue",
            "title": _("部门办件队列"),
            "description": _("本部门待审查、核查、审批的事项，超期的排在最前"),
            "url_name": "cases:queue",
            "audience": "staff",
            "order": 31,
        },
        {
            "key": "cases_board",
            "title": _("电子监察看板"),
            "description": _("各部门办件的预警和超期情况"),
            "url_name": "cases:board",
            "audience": "staff",
            "order": 32,
        },
    ]
