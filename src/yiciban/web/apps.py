from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def is_staff(user) -> bool:
    return bool(getattr(user, "is_staff", False))


class WebConfig(AppConfig):
    name = "yiciban.web"
    label = "web"
    verbose_name = _("门户")

    # The faces layer's own home-page sections; other apps list theirs the same way (see
    # yiciban.web.sections).
    home_sections = [
        {
            "key": "deadline_tool",
            "title": _("办理时限计算"),
            "description": _(
                "输入起算日期和法定或承诺的工作日数，按国务院公布的节假日和调休安排算出办结期限。"
            ),
            "url_name": "web:deadline_tool",
            "audience": "public",
            "order": 10,
        },
        {
            "key": "identifier_tool",
            "title": _("证照号码校验"),
            "description": _("核对统一社会信用代码或公民身份号码的位数、编码规则和校验码。"),
            "url_name": "web:identifier_tool",
            "audience": "public",
            "order": 20,
        },
        {
            "key": "api_docs",
            "title": _("开放接口文档"),
            "description": _("面向开发者的接口说明（OpenAPI 3），可在线试用公共参考接口。"),
            "url_name": "api:openapi-view",
            "audience": "public",
            "order": 90,
        },
        {
            "key": "workbench",
            "title": _("工作台"),
            "description": _("工作人员登录后查看本人的角色和管辖范围，进入各项业务。"),
            "url_name": "web:workbench",
            "audience": "staff",
            "order": 10,
        },
        {
            "key": "admin",
            "title": _("后台管理"),
            "description": _("维护行政区划、部门、服务网点、人员角色等基础数据。"),
            "url_name": "admin:index",
            "audience": "staff",
            "order": 90,
            "visible": is_staff,
        },
    ]

    def ready(self) -> None:
        from django.contrib import admin
        from django.utils.functional import lazy

        from . import sections
        from .context_processors import current_site_name

        sections.collect_app_sections()

        # The admin speaks Chinese through LANGUAGE_CODE; here it also carries the
        # platform's name instead of "Django 管理".
        site_name = lazy(current_site_name, str)()
        admin.site.site_header = site_name
        admin.site.site_title = site_name
