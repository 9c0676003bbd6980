from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SharingConfig(AppConfig):
    name = "yiciban.sharing"
    label = "sharing"
    verbose_name = _("数据共享")
    # Picked up by yiciban.web.sections (a lower layer cannot import the web app).
    home_sections = [
        {
            "key": "sharing_mine",
            "title": _("谁查看了我的数据"),
            "description": _("各部门凭授权查询您数据的记录，每一条都记入可验证账本"),
            "url_name": "sharing:mine",
            "audience": "public",
            "order": 61,
        },
        {
            "key": "sharing_grants",
            "title": _("数据共享授权"),
            "description": _("按部门和数据类别授权读取，查询记录可验证"),
            "url_name": "sharing:grants",
            "audience": "staff",
            "order": 61,
        },
    ]
