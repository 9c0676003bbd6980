"""Demo data of government openness for 华容县 (the bulletin's 政务公开 practice, "三个五"):
columns for the county, its 14 townships and 204 villages/communities; some forty articles
across the columns and the three levels, drafted by the openness editors and approved by
the county's supervisor (a policy with its interpretation, the special columns of the five
key domains, village finance boards); 治河渡镇 under 县级统一发布; the county hall's
screen playlist; disclosure requests in different states; suggestions.

Everything goes through the services, so the audit trail and the search index are as in
real use. Idempotent by natural key: a second load writes nothing. Needs the org demo
(regions, the huarong_editor and huarong_supervisor logins); adds one login of its own,
zhanghua_editor (openness editor of 章华镇), so that a township can publish its own."""

from __future__ import annotations

from pathlib import Path

import yaml
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from yiciban.core import audit
from yiciban.core.identifiers import make_uscc
from yiciban.org.models import Region, RegionLevel, Role, RoleAssignment, ServicePoint
from yiciban.org.services import role_assign

from . import services
from .models import (
    Article,
    ArticleKind,
    Column,
    DisclosureRequest,
    DisplayScreen,
    PublishingMode,
    RegionPublishing,
    Suggestion,
)

HUARONG = "430623000000"
ZHANGHUA = "430623100000"
ZHIHEDU = "430623101000"  # run under 县级统一发布 in the demo
COUNTY_HALL = "430623000000-CH1"
DEFAULT_PASSWORD = "Demo@2021"

# (column kind, article kind, title, document number, body, on screen)
COUNTY_ARTICLES = [
    (
        "policy",
        ArticleKind.POLICY,
        "华容县人民政府关于印发《华容县进一步优化营商环境若干措施》的通知",
        "华政发〔2021〕5号",
        "各乡镇人民政府，县直各单位：\n\n《华容县进一步优化营商环境若干措施》已经县人民政府"
        "同意，现印发给你们，请认真贯彻执行。\n\n1. 企业开办全流程压缩至1个工作日内；\n"
        "2. 工程建设项目审批实行“一窗受理、并联审批”；\n3. 推行“一件事一次办”，"
        "实现“最多跑一次”。",
        False,
    ),
    (
        "policy",
        ArticleKind.POLICY,
        "华容县基层政务公开标准化规范化工作实施方案",
        "华政办发〔2021〕12号",
        "按照“五统一”建设标准，县、乡、村三级服务大厅完成政务公开专区“一区、一窗、一屏、"
        "一栏、一箱”建设，实现政务公开线下全覆盖。",
        True,
    ),
    (
        "epidemic",
        ArticleKind.NOTICE,
        "华容县新冠肺炎疫情防控指挥部关于进一步做好秋冬季疫情防控工作的通告",
        "",
        "请广大市民坚持戴口罩、勤洗手、常通风、少聚集，出现发热等症状及时到发热门诊就诊。",
        True,
    ),
    (
        "epidemic",
        ArticleKind.INFORMATION,
        "华容县新冠疫苗接种点及接种时间公示",
        "",
        "县人民医院、县中医医院及各乡镇卫生院设接种点，接种时间为每周一至周六8:00-17:00。",
        True,
    ),
    (
        "six_stabilities",
        ArticleKind.POLICY,
        "华容县“六稳六保”政策措施汇编",
        "",
        "汇集稳就业、稳金融、稳外贸、稳外资、稳投资、稳预期和保居民就业、保基本民生、"
        "保市场主体、保粮食能源安全、保产业链供应链稳定、保基层运转各项政策。",
        False,
    ),
    (
        "six_stabilities",
        ArticleKind.NOTICE,
        "华容县复工复产政策兑现“一件事一次办”申报指南",
        "",
        "企业可通过“岳办岳好”华容站一键申报稳岗返还、社保补贴、贷款贴息等政策兑现事项。",
        True,
    ),
    (
        "budget_accounts",
        ArticleKind.INFORMATION,
        "华容县2021年县本级一般公共预算",
        "",
        "2021年县本级一般公共预算收入安排……，支出安排……，详见附表。",
        False,
    ),
    (
        "budget_accounts",
        ArticleKind.INFORMATION,
        "华容县2020年县本级财政决算公开",
        "",
        "2020年县本级一般公共预算收入完成情况、支出完成情况及“三公”经费决算情况。",
        False,
    ),
    (
        "procurement",
        ArticleKind.NOTICE,
        "华容县农村公路安防工程采购项目中标公告",
        "",
        "项目名称：华容县农村公路安全生命防护工程；中标金额及中标单位详见公告正文。",
        False,
    ),
    (
        "procurement",
        ArticleKind.NOTICE,
        "华容县政务服务中心自助服务终端采购项目招标公告",
        "",
        "采购内容：24小时自助服务终端10台；投标截止时间以公告为准。",
        False,
    ),
    (
        "livelihood_funds",
        ArticleKind.INFORMATION,
        "华容县2021年耕地地力保护补贴发放情况公示",
        "",
        "2021年耕地地力保护补贴已通过“一卡通”发放到户，补贴标准每亩105元。",
        True,
    ),
    (
        "livelihood_funds",
        ArticleKind.INFORMATION,
        "华容县2021年第三季度城乡低保资金发放情况",
        "",
        "第三季度城市低保、农村低保及特困供养资金发放情况，分乡镇列示。",
        False,
    ),
    (
        "service_info",
        ArticleKind.INFORMATION,
        "华容县“一件事一次办”事项清单（2021年版）",
        "",
        "涵盖开办餐饮店、新生儿出生、不动产登记等高频“一件事”。",
        True,
    ),
    (
        "service_info",
        ArticleKind.INFORMATION,
        "华容县“跨省通办”“全城通办”事项清单",
        "",
        "可在县政务服务中心跨省通办窗口及各乡镇便民服务中心办理的事项。",
        True,
    ),
    (
        "supervision_info",
        ArticleKind.INFORMATION,
        "华容县“双随机、一公开”抽查结果公示（2021年第三季度）",
        "",
        "本季度随机抽取市场主体120户，抽查结果详见附表。",
        False,
    ),
    (
        "organisation",
        ArticleKind.INFORMATION,
        "华容县政务服务中心机构职能及联系方式",
        "",
        "县政务服务中心负责全县政务服务、政务公开、12345热线等工作。",
        False,
    ),
    (
        "public_affairs",
        ArticleKind.NOTICE,
        "华容县政务公开专区“五个一”建设情况通报",
        "",
        "1个县级专区、14个乡镇专区和204个村（社区）均已完成“五个一”建设。",
        True,
    ),
    (
        "party_affairs",
        ArticleKind.INFORMATION,
        "中共华容县委2021年党务公开目录",
        "",
        "按照党务公开条例，公开党的组织建设、党风廉政建设等事项。",
        False,
    ),
    (
        "finance",
        ArticleKind.INFORMATION,
        "华容县2021年直达基层财政资金管理使用情况",
        "",
        "直达资金分配、下达及支出进度情况。",
        False,
    ),
]

INTERPRETATION = (
    "《华容县进一步优化营商环境若干措施》政策解读",
    "一、出台背景\n\n为持续优化营商环境……\n\n二、主要内容\n\n企业开办“一日办结”、"
    "项目审批“并联办理”、政务服务“一件事一次办”。\n\n三、解读机关：华容县发展和改革局",
)

# per township: (column kind, title pattern)
TOWNSHIP_ARTICLES = [
    ("budget_accounts", "{name}2021年财政预决算公开"),
    ("livelihood_funds", "{name}2021年惠农补贴发放情况公示"),
    ("service_info", "{name}便民服务中心办事指南"),
]
VILLAGE_ARTICLES = [
    ("finance", "{name}2021年第三季度财务收支公开"),
    ("public_affairs", "{name}2021年低保评议结果公示"),
]


def _password(report) -> str:
    directory = getattr(report, "directory", None)
    if directory is not None and Path(directory, "staff.yaml").exists():
        with Path(directory, "staff.yaml").open(encoding="utf-8") as stream:
            return yaml.safe_load(stream).get("password", DEFAULT_PASSWORD)
    return DEFAULT_PASSWORD


def _login(username: str):
    return get_user_model().objects.filter(username=username).first()


def load(report) -> None:
    county = Region.objects.filter(code=HUARONG).first()
    editor, reviewer = _login("huarong_editor"), _login("huarong_supervisor")
    admin = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    if county is None or editor is None or reviewer is None or admin is None:
        return  # the org demo of 华容县 is not loaded: nothing to hang openness on
    township_editor = _township_editor(report, admin)
    regions = [
        county,
        *Region.objects.filter(path__startswith=county.path + "/").order_by("level", "code"),
    ]
    for region in regions:
        before = Column.objects.filter(region=region).count()
        services.columns_provision(actor=editor, region=region)
        report.count("openness_columns", False)
        for _n in range(Column.objects.filter(region=region).count() - before):
            report.count("openness_columns")
    zhihedu = Region.objects.filter(code=ZHIHEDU).first()
    if zhihedu is not None and not RegionPublishing.objects.filter(region=zhihedu).exists():
        services.publishing_mode_set(actor=editor, region=zhihedu, mode=PublishingMode.UNIFIED)
        report.count("openness_publishing_modes")

    policy = None
    for kind, article_kind, title, number, body, on_screen in COUNTY_ARTICLES:
        article = _publish(
            report,
            editor,
            reviewer,
            county,
            kind,
            title,
            body,
            article_kind=article_kind,
            document_number=number,
            issuing_body="华容县人民政府" if number else "",
            show_on_screen=on_screen,
        )
        if number == "华政发〔2021〕5号":
            policy = article
    if policy is not None:
        _publish(
            report,
            editor,
            reviewer,
            county,
            "policy",
            INTERPRETATION[0],
            INTERPRETATION[1],
            article_kind=ArticleKind.INTERPRETATION,
            interprets=policy,
            show_on_screen=True,
        )

    townships = list(
        Region.objects.filter(parent=county, level=RegionLevel.TOWNSHIP).order_by("code")
    )
    for township in townships[:4]:
        # 章华镇 publishes its own (自主公开); the others are published by the county for them
        author = township_editor if township.code == ZHANGHUA else editor
        for kind, pattern in TOWNSHIP_ARTICLES:
            _publish(report, author, reviewer, township, kind, pattern.format(name=township.name))
    for township in townships[:2]:
        for village in Region.objects.filter(parent=township).order_by("code")[:3]:
            author = township_editor if township.code == ZHANGHUA else editor
            for kind, pattern in VILLAGE_ARTICLES:
                _publish(report, author, reviewer, village, kind, pattern.format(name=village.name))

    _screen(report, editor, county)
    _disclosure_requests(report, editor, reviewer, county)
    _suggestions(report, editor, county)


def _township_editor(report, admin):
    township = Region.objects.filter(code=ZHANGHUA).first()
    if township is None:
        return None
    password = _password(report)
    user = _login("zhanghua_editor")
    report.count("users", user is None)
    if user is None:
        user = get_user_model().objects.create(
            username="zhanghua_editor",
            display_name="章华镇政务公开编辑",
            is_staff=True,
            password=make_password(password),
        )
        audit.record(
            actor=admin,
            action="core.user_create",
            obj=user,
            changes={"fields": ["username", "display_name", "is_staff"], "demo": True},
        )
    if not RoleAssignment.objects.filter(
        user=user, role=Role.OPENNESS_EDITOR, region=township
    ).exists():
        role_assign(actor=admin, user=user, role=Role.OPENNESS_EDITOR, region=township)
        report.count("role_assignments")
    report.logins.append(
        ("zhanghua_editor", password, str(Role.OPENNESS_EDITOR.label), township.name)
    )
    return user


def _publish(
    report, author, reviewer, region, column_kind, title, body="", *, article_kind=None, **extra
) -> Article:
    existing = Article.objects.filter(region=region, title=title).first()
    report.count("openness_articles", existing is None)
    if existing is not None:
        return existing
    column = Column.objects.get(region=region, kind=column_kind)
    article = services.article_create(
        actor=author,
        column=column,
        title=title,
        body=body or f"{title}。详细内容见附件，如有疑问请拨打12345政务服务便民热线。",
        kind=article_kind or ArticleKind.INFORMATION,
        **extra,
    )
    services.article_submit(actor=author, article=article)
    return services.article_approve(actor=reviewer, article=article, comment="同意发布")


def _screen(report, editor, county) -> None:
    point = ServicePoint.objects.filter(code=COUNTY_HALL).first()
    if point is None or DisplayScreen.objects.filter(service_point=point).exists():
        report.count("openness_screens", False)
        return
    chosen = list(
        Article.objects.filter(
            region=county,
            title__in=[
                INTERPRETATION[0],
                "华容县新冠肺炎疫情防控指挥部关于进一步做好秋冬季疫情防控工作的通告",
                "华容县“一件事一次办”事项清单（2021年版）",
            ],
        ).values_list("pk", flat=True)
    )
    services.screen_configure(
        actor=editor,
        service_point=point,
        title="华容县政务服务中心 · 政务公开信息屏",
        article_ids=chosen,
        slide_seconds=20,
        refresh_seconds=120,
        auto_fill_limit=8,
    )
    report.count("openness_screens")


def _disclosure_requests(report, editor, reviewer, county) -> None:
    first = "华容县2021年耕地地力保护补贴发放到户明细（章华镇环城村）"
    if not DisclosureRequest.objects.filter(description=first).exists():
        services.disclosure_request_file(
            region=county,
            requester_category="natural_person",
            requester_name="张三",
            id_number="430623199001011237",
            phone="13807300001",
            description=first,
            delivery_method="email",
            email="zhangsan@example.com",
        )
        report.count("openness_disclosure_requests")
    second = "华容县2020年县本级“三公”经费决算明细"
    if not DisclosureRequest.objects.filter(description=second).exists():
        filed = services.disclosure_request_file(
            region=county,
            requester_category="commercial_enterprise",
            requester_name="华容县某某农业发展有限公司",
            id_number=make_uscc(authority="9", category="1", region="430623", org_body="MA4L0001"),
            contact_name="李四",
            phone="13807300002",
            description=second,
            delivery_method="online",
        )
        services.disclosure_request_extend(
            actor=reviewer,
            request=filed.request,
            days=10,
            reason="所需信息涉及多个预算单位，需汇总核实",
        )
        services.disclosure_request_answer(
            actor=editor,
            request=filed.request,
            answer_type="partly_disclosed",
            answer_text="经审查，决算汇总数据予以公开（见附件）；涉及个人信息的明细不予公开。",
        )
        report.count("openness_disclosure_requests")


def _suggestions(report, editor, county) -> None:
    hall = ServicePoint.objects.filter(code=COUNTY_HALL).first()
    entries = [
        (hall, "建议政务公开专区增加大字版政策解读，方便老年人阅读。", True, True),
        (hall, "显示屏能否滚动播放医保缴费的办理流程？", True, False),
        (None, "希望网上公开栏目按村（社区）分类更清楚一些。", False, True),
    ]
    for point, content, consent, answer in entries:
        if Suggestion.objects.filter(content=content).exists():
            report.count("openness_suggestions", False)
            continue
        suggestion = services.suggestion_submit(
            content=content,
            service_point=point,
            region=None if point else county,
            channel="box" if point else "online",
            publish_consent=consent,
        )
        if answer:
            services.suggestion_answer(
                actor=editor,
                suggestion=suggestion,
                answer_text="感谢您的建议，已在政务公开专区增设大字版资料架，并同步更新网上栏目。",
            )
        report.count("openness_suggestions")
