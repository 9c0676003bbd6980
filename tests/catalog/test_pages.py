"""The public catalogue pages on the demo catalogue: browsing, search, the printable guide,
bundles, the guidance wizard (htmx partial and plain form post), its errors, the printable
notice and the merged form, and the English rendering."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from yiciban.accounts.services import enterprise_register, person_register
from yiciban.catalog import reuse
from yiciban.catalog.forms import AnswersForm, answers_query
from yiciban.catalog.models import Item
from yiciban.catalog.reuse import ArchiveHits, ArchiveSubject
from yiciban.catalog.selectors import compiled_bundle
from yiciban.core.identifiers import make_uscc, resident_id_check_char
from yiciban.org.models import Department

LANSHAN = "lanshan-one-licence"
WIZARD = reverse("catalog:bundle_wizard", args=[LANSHAN])
NOTICE = reverse("catalog:bundle_notice", args=[LANSHAN])
FORM = reverse("catalog:bundle_form", args=[LANSHAN])


def item_code(place: str, name: str) -> str:
    return Item.objects.get(
        department__region__code=place + "000000", name=name
    ).implementation_code


def applicable(html: str) -> list[str]:
    """Names of the applicable items in a wizard or notice page."""
    block = re.search(r'data-testid="(?:applicable|notice)-items">(.*?)</ol>', html, re.S)
    assert block, "no list of applicable items on the page"
    return re.findall(r'<span class="item-name">([^<]+)</span>', block.group(1))


def question_block(html: str, code: str) -> str:
    match = re.search(
        rf'<div class="question[^"]*" id="q-{code}".*?</div>\s*(?=<div class="question|<p><button)',
        html,
        re.S,
    )
    assert match, f"question {code} not on the page"
    return match.group(0)


@pytest.fixture
def demo(demo_catalog):
    return demo_catalog


# --- browsing -------------------------------------------------------------------------


def test_catalogue_index_links_every_way_in(client, demo):
    response = client.get(reverse("catalog:index"))
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "办事指南",
        "蓝山县涉企经营“一照通”（1+X）",
        "新生儿出生一件事（湘阴县）",
        "生育",
        "企业开办",
    ):
        assert text in html
    assert reverse("catalog:departments") + "?region=431127" in html
    assert reverse("catalog:service_points") + "?region=430623" in html


def test_home_page_shows_the_catalogue_sections(client, demo):
    html = client.get("/").content.decode()
    assert f'href="{reverse("catalog:index")}"' in html
    assert f'href="{reverse("catalog:bundles")}"' in html
    assert "一件事一次办" in html


def test_search_in_chinese_finds_items_and_bundles(client, demo):
    response = client.get(reverse("catalog:search"), {"q": "饭店"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "食品经营许可" in html  # "饭店" is one of its keywords
    assert re.search(r"找到 \d+ 个事项", html)

    bundles = client.get(reverse("catalog:search"), {"q": "餐饮店"}).content.decode()
    assert "开办餐饮店一件事（华容县）" in bundles

    nothing = client.get(reverse("catalog:search"), {"q": "宇宙飞船"}).content.decode()
    assert "没有找到相关事项" in nothing


def test_search_pages_through_all_items(client, demo):
    first = client.get(reverse("catalog:search"), {"q": ""}).content.decode()
    assert "第 1 / 4 页" in first  # 62 demo items, 20 a page
    second = client.get(reverse("catalog:search"), {"q": "", "page": "2"}).content.decode()
    assert "第 2 / 4 页" in second
    assert "上一页" in second and "下一页" in second


def test_search_refuses_an_overlong_query(client, demo):
    html = client.get(reverse("catalog:search"), {"q": "许" * 101}).content.decode()
    assert "关键词最多 100 个字" in html


def test_browse_by_department_after_choosing_the_county(client, demo):
    chooser = client.get(reverse("catalog:departments")).content.decode()
    assert "选择县（市、区）" in chooser and "蓝山县" in chooser and "华容县" in chooser
    assert "蓝山县烟草专卖局" not in chooser  # nothing listed before a county is chosen

    html = client.get(reverse("catalog:departments"), {"region": "431127"}).content.decode()
    assert "蓝山县的实施部门" in html
    assert "蓝山县烟草专卖局" in html
    assert "华容县市场监督管理局" not in html

    tobacco = Department.objects.get(region__code="431127000000", kind="tobacco")
    page = client.get(reverse("catalog:department_detail", args=[tobacco.pk]))
    assert page.status_code == 200
    assert "烟草专卖零售许可证核发" in page.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        reverse("catalog:departments") + "?region=12",
        reverse("catalog:departments") + "?region=439999",
        reverse("catalog:department_detail", args=[999999]),
        reverse("catalog:theme_detail", args=["no-such-theme"]),
        reverse("catalog:service_point_detail", args=["NO-SUCH-POINT"]),
        reverse("catalog:item_detail", args=["11431127000000000X000000000000000"]),
        reverse("catalog:bundle_detail", args=["no-such-bundle"]),
        reverse("catalog:bundle_wizard", args=["no-such-bundle"]),
        reverse("catalog:bundle_notice", args=["no-such-bundle"]),
        reverse("catalog:bundle_form", args=["no-such-bundle"]),
    ],
)
def test_unknown_codes_are_404(client, demo, url):
    assert client.get(url).status_code == 404


def test_browse_by_life_event_and_enterprise_theme(client, demo):
    life = client.get(reverse("catalog:life_events")).content.decode()
    assert "个人办事：按人生事件" in life and "生育" in life and "企业开办" not in life
    enterprise = client.get(reverse("catalog:enterprise_themes")).content.decode()
    assert "企业开办" in enterprise and "生育" not in enterprise

    birth = client.get(reverse("catalog:theme_detail", args=["birth"]))
    assert birth.status_code == 200
    html = birth.content.decode()
    assert "新生儿出生一件事（湘阴县）" in html  # the bundle of the life event
    assert "出生医学证明" in html  # and its items


def test_browse_by_service_point(client, demo):
    html = client.get(reverse("catalog:service_points"), {"region": "431127"}).content.decode()
    assert "蓝山县政务服务中心大厅" in html
    assert "华容县政务服务中心大厅" not in html

    hall = client.get(reverse("catalog:service_point_detail", args=["431127-CH1"]))
    assert hall.status_code == 200
    page = hall.content.decode()
    assert "在此可办" in page and "食品经营许可" in page and "市场主体设立登记" in page


# --- the item guide -------------------------------------------------------------------


def test_item_guide_shows_the_implementation_list_data(client, demo):
    code = item_code("431127", "食品经营许可")
    response = client.get(reverse("catalog:item_detail", args=[code]))
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        code,
        "010017002000",  # basic code
        "蓝山县市场监督管理局",
        "《中华人民共和国食品安全法》第三十五条",  # legal basis
        "有专职或者兼职的食品安全管理人员",  # a condition
        "食品经营许可申请书",  # a material
        "可容缺",  # staff health certificates may follow
        "平台通过数据共享获取，申请人无需提交",  # the business licence is fetched
        "提交申请并签署告知承诺书",  # process of a commitment-based item
        "告知承诺",
        "20 个工作日",  # legal limit
        "5 个工作日",  # promised limit
        "不收费",
        "网上办理",
        "蓝山县政务服务中心大厅",  # where it can be done
        "食品经营许可证",  # the result
        "蓝山县涉企经营“一照通”（1+X）",  # the bundles it is part of
    ):
        assert text in html, text


def test_item_guide_links_to_the_online_application(client, demo, django_user_model):
    code = item_code("431127", "食品经营许可")
    html = client.get(reverse("catalog:item_detail", args=[code])).content.decode()
    apply_url = reverse("cases:apply", args=["item", code])
    assert apply_url in html
    client.force_login(django_user_model.objects.create_user("applicant", password="x"))
    page = client.get(apply_url)
    assert page.status_code == 200
    assert "食品经营许可" in page.content.decode()


def test_item_guide_is_printable(client, demo):
    html = client.get(
        reverse("catalog:item_detail", args=[item_code("431127", "食品经营许可")])
    ).content.decode()
    assert re.search(r'href="/static/catalog/catalog-print\.css" media="print"', html)
    assert re.search(r'href="/static/yiciban/print\.css" media="print"', html)
    assert "data-print" in html


def test_item_guide_fetchable_material_is_marked(client, demo):
    html = client.get(
        reverse("catalog:item_detail", args=[item_code("431127", "食品经营许可")])
    ).content.decode()
    licence = re.search(
        r'<li class="material no-submit">\s*<span class="material-name">营业执照</span>', html
    )
    assert licence, "the business licence is not marked as fetched"


# --- bundles --------------------------------------------------------------------------


def test_bundle_list_and_filter(client, demo):
    html = client.get(reverse("catalog:bundles")).content.decode()
    assert "蓝山县涉企经营“一照通”（1+X）" in html and "新生儿出生一件事（湘阴县）" in html
    people = client.get(reverse("catalog:bundles"), {"audience": "person"}).content.decode()
    assert "新生儿出生一件事（湘阴县）" in people
    assert "蓝山县涉企经营“一照通”（1+X）" not in people


def test_bundle_page_lists_members_and_questions(client, demo):
    response = client.get(reverse("catalog:bundle_detail", args=[LANSHAN]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "26 个" in html  # the base item + 25 permits and filings
    assert "基础事项" in html and "市场主体设立登记" in html
    assert "烟草专卖零售许可证核发" in html and "零售烟草制品须取得烟草专卖零售许可证" in html
    assert "是否经营酒类？" in html
    assert WIZARD in html

    startup = client.get(reverse("catalog:bundle_detail", args=["lanshan-enterprise-startup"]))
    assert "2 个工作日" in startup.content.decode()


# --- the wizard -----------------------------------------------------------------------


def test_wizard_first_visit_shows_questions_and_the_base_item(client, demo):
    response = client.get(WIZARD)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    assert applicable(html) == ["市场主体设立登记"]
    assert 'hx-post="' + WIZARD + '"' in html and 'method="post"' in html
    # a question whose rule is not met is in the form but hidden
    assert " hidden>" in question_block(html, "food_activities")
    assert " hidden>" not in question_block(html, "sells_food")
    assert 'name="htmx-config"' in html  # 422 responses are swapped too


def test_wizard_plain_post_rerenders_the_whole_page(client, demo):
    response = client.post(WIZARD, {"entity_type": "company", "sells_alcohol": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    assert applicable(html) == ["市场主体设立登记", "酒类经营备案"]
    assert "经营酒类须向商务部门备案" in html  # the reason
    assert "依据您的回答：是否经营酒类？“是”" in html
    assert 'value="true" checked' in question_block(html, "sells_alcohol")


def test_wizard_htmx_post_returns_only_the_wizard(client, demo):
    response = client.post(
        WIZARD,
        {"entity_type": "company", "sells_alcohol": "true", "sells_tobacco": "true"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith('<div id="wizard"')
    assert "<html" not in html and "<header" not in html
    assert applicable(html) == ["市场主体设立登记", "烟草专卖零售许可证核发", "酒类经营备案"]
    assert "一单告知" in html
    assert 'data-testid="reduction"' in html


def test_answers_show_and_hide_questions(client, demo):
    shown = client.post(WIZARD, {"sells_food": "true"}, HTTP_HX_REQUEST="true").content.decode()
    assert " hidden>" not in question_block(shown, "food_activities")
    hidden = client.post(WIZARD, {"sells_food": "false"}, HTTP_HX_REQUEST="true").content.decode()
    assert " hidden>" in question_block(hidden, "food_activities")


def test_multi_choice_with_nothing_ticked_is_an_answer(client, demo):
    # the empty marker alone: "none of these"
    html = client.post(
        WIZARD, {"sells_food": "true", "food_activities": [""]}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert applicable(html) == ["市场主体设立登记"]
    catering = client.post(
        WIZARD,
        {"sells_food": "true", "food_activities": ["", "catering", "workshop"]},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert applicable(catering) == ["市场主体设立登记", "食品经营许可", "食品生产加工小作坊登记"]


def test_all_25_permits_and_the_bundle_limit(client, demo):
    everything = {
        "entity_type": "company",
        "sells_food": "true",
        "food_activities": ["", "retail", "catering", "workshop"],
        "agri_inputs": ["", "pesticide", "vet_drugs", "seeds"],
        "transport": ["", "freight", "repair", "driver_training"],
        "public_venues": ["", "bath"],
        "culture": ["", "song_dance", "internet_cafe", "publications"],
        "crowded_place": "true",
        "floor_area_m2": "320",
    }
    for flag in (
        "sells_drugs sells_devices special_equipment sells_tobacco lodging engraves_seals "
        "scrap_metal clinic pollutes outdoor_ad sells_alcohol hazardous_chemicals"
    ).split():
        everything[flag] = "true"
    html = client.post(WIZARD, everything).content.decode()
    assert len(applicable(html)) == 26
    assert "需要办理 26 个事项" in html
    assert "根据您的回答无需办理的事项" not in html


def test_wrong_answers_are_shown_next_to_their_question_with_422(client, demo):
    response = client.post(
        WIZARD, {"entity_type": "ltd", "sells_alcohol": "true", "sells_tobacco": "maybe"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-testid="error-summary"' in html
    entity = question_block(html, "entity_type")
    assert "“您要办理哪类市场主体？”没有选项 ltd" in entity and "has-error" in entity
    assert "须回答是或否" in question_block(html, "sells_tobacco")
    # the right answers still count
    assert applicable(html) == ["市场主体设立登记", "酒类经营备案"]


def test_wrong_number_in_the_htmx_partial_is_422(client, demo):
    for value, message in (("abc", "须为数字"), ("-5", "不能小于 0")):
        response = client.post(
            WIZARD, {"crowded_place": "true", "floor_area_m2": value}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 422
        html = response.content.decode()
        assert html.startswith('<div id="wizard"')
        block = question_block(html, "floor_area_m2")
        assert message in block and 'aria-invalid="true"' in block
        assert f'value="{value}"' in block  # what was typed comes back to be corrected
    ok = client.post(WIZARD, {"crowded_place": "true", "floor_area_m2": "12.5"})
    assert ok.status_code == 200
    assert "公众聚集场所投入使用、营业前消防安全检查" in "".join(applicable(ok.content.decode()))


def test_wizard_get_with_answers_fills_the_form(client, demo):
    html = client.get(WIZARD, {"sells_tobacco": "true"}).content.decode()
    assert 'value="true" checked' in question_block(html, "sells_tobacco")
    assert "烟草专卖零售许可证核发" in applicable(html)


# --- the printable notice and the merged form -----------------------------------------


def test_notice_link_carries_the_answers_and_the_notice_prints_them(client, demo):
    html = client.post(
        WIZARD,
        {
            "entity_type": "company",
            "sells_food": "true",
            "food_activities": ["", "catering"],
            "sells_alcohol": "true",
            "sells_tobacco": "true",
        },
    ).content.decode()
    link = (
        re.search(r'href="([^"]+)" data-testid="notice-link"', html).group(1).replace("&amp;", "&")
    )
    assert urlsplit(link).path == NOTICE
    assert ("sells_alcohol", "true") in parse_qsl(urlsplit(link).query, keep_blank_values=True)

    response = client.get(link)
    assert response.status_code == 200
    notice = response.content.decode()
    assert "一次性告知单" in notice
    assert applicable(notice) == [
        "市场主体设立登记",
        "食品经营许可",
        "烟草专卖零售许可证核发",
        "酒类经营备案",
    ]
    assert re.search(r'href="/static/catalog/catalog-print\.css" media="print"', notice)
    assert "申请人（签字）" in notice  # the line to sign on paper
    assert "有限责任公司" in notice  # the answers are summarised
    # one entry per material, naming every item that needs it
    assert notice.count('data-kind="id.legal_rep"') == 1
    legal_rep = re.search(r'data-kind="id.legal_rep">(.*?)</li>', notice, re.S).group(1)
    for name in ("市场主体设立登记", "食品经营许可", "烟草专卖零售许可证核发", "酒类经营备案"):
        assert name in legal_rep
    licence = re.search(r'data-kind="licence.business">(.*?)</li>', notice, re.S).group(1)
    assert "无需提交" in licence  # fetched by the platform
    assert "需提交材料（份）" in notice


def test_notice_with_broken_answers_in_the_link_is_422(client, demo):
    response = client.get(NOTICE, {"sells_alcohol": "maybe"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "链接中的回答有误" in html and "须回答是或否" in html
    assert "未回答导办问题" in html  # the broken answer is not printed as if it were given
    assert applicable(html) == ["市场主体设立登记"]


def test_merged_form_groups_shared_fields_and_item_sub_sections(client, demo):
    response = client.get(
        FORM, {"sells_food": "true", "food_activities": ["", "catering"], "sells_tobacco": "true"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    sections = re.findall(r'data-section="([^"]+)"', html)
    assert sections[0] == "base"
    assert item_code("431127", "烟草专卖零售许可证核发") in sections
    shared = re.search(r'data-section="base">(.*?)</section>', html, re.S).group(1)
    assert "企业（市场主体）名称" in shared and "个事项共用" in shared
    tobacco = re.search(
        rf'data-section="{item_code("431127", "烟草专卖零售许可证核发")}">(.*?)</section>',
        html,
        re.S,
    ).group(1)
    assert "与最近卷烟零售点距离（米）" in tobacco
    assert "企业（市场主体）名称" not in tobacco  # asked once, in the shared section
    assert re.search(r"逐项办理共需填写 \d+ 项，合并后只需填写 \d+ 项", html)


# --- a known applicant ---------------------------------------------------------------


@pytest.fixture
def boss(demo, org):
    user = get_user_model().objects.create_user(username="boss", password="x-Secret-1")
    first17 = "43112719850101123"
    person = person_register(
        actor=user, user=user, name="李老板", id_number=first17 + resident_id_check_char(first17)
    )
    enterprise = enterprise_register(
        actor=user,
        uscc=make_uscc(authority="9", category="1", region="431127", org_body="MA4L0TE1"),
        name="蓝山县测试皮具有限公司",
        registered_address="蓝山县塔峰镇",
        region=org["431127"],
        legal_representative=person,
    )
    return user, enterprise


@pytest.fixture
def archive_double():
    """Stands in for the archive (a later layer): it holds the legal representative's ID
    document and the enterprise name for one enterprise."""
    held: dict[str, ArchiveHits] = {}

    def lookup(subject: ArchiveSubject, materials, elements) -> ArchiveHits:
        return held.get(subject.identifier, ArchiveHits())

    reuse.register_archive_lookup(lookup)
    yield held
    reuse.unregister_archive_lookup(lookup)


def test_materials_in_the_archive_are_marked_no_need_to_submit(client, boss, archive_double):
    user, enterprise = boss
    archive_double[enterprise.uscc] = ArchiveHits(
        materials={"id.legal_rep": "档案材料 2021-0042"},
        fields={"enterprise.name": enterprise.name},
    )
    anonymous = client.post(WIZARD, {"sells_alcohol": "true"}).content.decode()
    assert "登录后，您档案中已有的材料不再要求提交" in anonymous
    legal_rep = re.search(r'data-kind="id.legal_rep">(.*?)</li>', anonymous, re.S).group(1)
    assert "无需提交" not in legal_rep

    client.force_login(user)
    first = client.get(WIZARD).content.decode()
    # an enterprise bundle starts as the enterprise the user represents
    assert f'<option value="{enterprise.uscc}" selected>' in first
    html = client.post(
        WIZARD, {"_enterprise": enterprise.uscc, "sells_alcohol": "true"}
    ).content.decode()
    legal_rep = re.search(r'data-kind="id.legal_rep">(.*?)</li>', html, re.S).group(1)
    assert "无需提交" in legal_rep and "档案材料 2021-0042" in legal_rep

    form = client.get(FORM, {"_enterprise": enterprise.uscc}).content.decode()
    name_field = re.search(r'data-element="enterprise.name">(.*?)</div>', form, re.S).group(1)
    assert "已从档案预填" in name_field


def test_someone_elses_enterprise_is_refused_on_the_form(client, boss, archive_double):
    user, _enterprise = boss
    client.force_login(user)
    other = make_uscc(authority="9", category="1", region="431127", org_body="MA4L0QR2")
    response = client.post(WIZARD, {"_enterprise": other, "sells_alcohol": "true"})
    assert response.status_code == 422
    assert "您不是该企业的法定代表人" in response.content.decode()


# --- unavailable bundles, English -----------------------------------------------------


def test_bundle_whose_base_item_is_withdrawn_explains_with_409(client, restaurant, admin_user):
    from yiciban.catalog import services

    services.item_version_withdraw(
        actor=admin_user, version=restaurant["registration"].versions.get()
    )
    response = client.get(reverse("catalog:bundle_wizard", args=["restaurant"]))
    assert response.status_code == 409
    assert "基础事项目前不在办理中" in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        reverse("catalog:index"),
        reverse("catalog:life_events"),
        reverse("catalog:bundles"),
        reverse("catalog:bundle_detail", args=[LANSHAN]),
        WIZARD + "?sells_alcohol=true",
        NOTICE + "?sells_alcohol=true",
        FORM + "?sells_alcohol=true",
    ],
)
def test_pages_render_in_english(client, demo, url):
    client.cookies["django_language"] = "en"
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en"' in html
    assert "Skip to main content" in html


def test_item_guide_renders_in_english(client, demo):
    client.cookies["django_language"] = "en"
    code = item_code("431127", "食品经营许可")
    response = client.get(reverse("catalog:item_detail", args=[code]))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en"' in html and "Skip to main content" in html
    assert "食品经营许可" in html  # catalogue content is data, shown as written


# --- reading answers ------------------------------------------------------------------


def test_answers_round_trip_through_the_query_string(demo):
    questions = compiled_bundle(LANSHAN).questions
    answers = {
        "entity_type": "company",
        "sells_food": True,
        "food_activities": [],
        "floor_area_m2": 12.5,
        "sells_alcohol": False,
    }
    from django.http import QueryDict

    form = AnswersForm(questions, QueryDict(answers_query(answers)))
    assert form.answers == answers
    assert AnswersForm(questions, QueryDict("floor_area_m2=7")).answers == {"floor_area_m2": 7}
    # what cannot be read is passed on as typed, for the questionnaire check to name
    assert AnswersForm(questions, QueryDict("sells_food=yes")).answers == {"sells_food": "yes"}


def test_guide_links_blank_forms_only_when_they_are_shipped(client, restaurant, admin_user):
    from yiciban.catalog import services
    from yiciban.catalog.models import MaterialKind

    services.material_kind_update(
        actor=admin_user,
        kind=MaterialKind.objects.get(code="food.application"),
        blank_form_url="/static/catalog/catalog.css",  # a file the app ships
        sample_url="/static/catalog/samples/not-shipped.pdf",
    )
    code = restaurant["food"].implementation_code
    html = client.get(reverse("catalog:item_detail", args=[code])).content.decode()
    assert '<a href="/static/catalog/catalog.css">空白表格</a>' in html
    assert "not-shipped.pdf" not in html and "示例样表" not in html
