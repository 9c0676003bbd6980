"""The demo catalogue holds the bulletin's figures because its material lists produce them."""

import pytest
from django.db.models import Count

from yiciban.catalog import selectors
from yiciban.catalog.models import BundleMember, Item

pytestmark = pytest.mark.django_db

ALL_25 = {
    "entity_type": "company",
    "sells_food": True,
    "food_activities": ["retail", "catering", "workshop"],
    "sells_drugs": True,
    "sells_devices": True,
    "special_equipment": True,
    "agri_inputs": ["pesticide", "vet_drugs", "seeds"],
    "transport": ["freight", "repair", "driver_training"],
    "sells_tobacco": True,
    "lodging": True,
    "engraves_seals": True,
    "scrap_metal": True,
    "public_venues": ["bath", "beauty_salon"],
    "clinic": True,
    "culture": ["song_dance", "internet_cafe", "publications"],
    "pollutes": True,
    "outdoor_ad": True,
    "sells_alcohol": True,
    "crowded_place": True,
    "floor_area_m2": 800,
    "hazardous_chemicals": True,
}


def test_demo_has_at_least_sixty_items(demo_catalog):
    assert Item.objects.count() >= 60
    assert selectors.items_list(limit=100).count == Item.objects.count()


def test_lanshan_one_licence_is_registration_plus_25_from_12_departments(demo_catalog):
    members = BundleMember.objects.filter(version__bundle__code="lanshan-one-licence")
    optional = members.filter(role="optional")
    assert optional.count() == 25
    assert members.get(role="base").item.name == "市场主体设立登记"
    kinds = optional.values("item__department__kind").annotate(n=Count("id"))
    assert len(kinds) == 12
    result = selectors.bundle_guidance("lanshan-one-licence", ALL_25)
    assert len(result["items"]) == 26 and result["not_applicable"] == []
    only_food = selectors.bundle_guidance(
        "lanshan-one-licence",
        {"sells_food": True, "food_activities": ["catering"], "crowded_place": True},
    )
    assert [i["name"] for i in only_food["items"]] == [
        "市场主体设立登记",
        "食品经营许可",
        "公众聚集场所投入使用、营业前消防安全检查",
    ]


def test_house_delivery_cuts_107_materials_to_32(demo_catalog):
    result = selectors.bundle_guidance("jinshi-house-delivery", {"has_mortgage": True})
    assert len(result["items"]) == 9
    assert result["reduction"]["materials_separate"] == 107
    assert result["reduction"]["materials_bundle"] == 32
    without_loan = selectors.bundle_guidance("jinshi-house-delivery", {"has_mortgage": False})
    assert len(without_loan["items"]) == 8


def test_enterprise_start_up_six_in_one_within_two_working_days(demo_catalog):
    result = selectors.bundle_guidance(
        "lanshan-enterprise-startup",
        {"entity_type": "company", "hires_staff": True, "needs_invoice": True},
    )
    names = {i["name"] for i in result["items"]}
    assert len(names) == 6 and "住房公积金单位缴存登记" in names
    assert result["promised_limit"]["days"] <= 2 == result["promised_limit"]["declared"]


def test_restaurant_and_newborn_bundles(demo_catalog):
    small = selectors.bundle_guidance(
        "huarong-restaurant", {"dine_in": True, "seats": 20, "floor_area_m2": 60}
    )
    assert [i["name"] for i in small["items"]] == ["市场主体设立登记", "食品经营许可"]
    big = selectors.bundle_guidance(
        "huarong-restaurant",
        {"dine_in": True, "seats": 80, "floor_area_m2": 60, "sells_alcohol": True},
    )
    assert "公众聚集场所投入使用、营业前消防安全检查" in {i["name"] for i in big["items"]}
    newborn = selectors.bundle_guidance(
        "xiangyin-newborn", {"born_in_county": True, "register_household": True}
    )
    assert len(newborn["items"]) == 5


def test_public_venue_hygiene_is_automatic_at_the_kiosk(demo_catalog):
    page = selectors.items_list(channel="kiosk", region="430702")
    assert page.count == 1
    version = page.items[0]
    assert version.approval_mode == "automatic" and version.promised_limit == 0
    assert selectors.items_list(service_point="430702-K1").count == 1


def test_browse_selectors(demo_catalog):
    departments = selectors.departments_with_items(region="431127")
    assert sum(d.item_count for d in departments) == 31
    themes = {t.code: t for t in selectors.themes_with_counts(audience="person")}
    assert themes["birth"].bundle_count == 1 and themes["birth"].item_count == 6
    points = {p.code: p.item_count for p in selectors.service_points_with_items()}
    assert points["431127-CH1"] == 31
    assert selectors.bundles_list(region="430624").count == 1
    # Chinese search: every term must match; a phrase nobody wrote falls back to bigrams
    assert selectors.items_list(q="营业执照").count >= 2
    assert selectors.items_list(q="开网吧").items[0].name.startswith("互联网上网服务")


def test_full_demo_load_is_idempotent(db):
    from yiciban.demo_loader import LoadReport

    modules = []
    for name in ("yiciban.org.demo", "yiciban.accounts.demo", "yiciban.catalog.demo"):
        modules.append(__import__(name, fromlist=["load"]))
    first = LoadReport()
    for module in modules:
        module.load(first)
    assert first.created["catalog items"] == 62
    assert first.created["catalog bundles"] == 5
    second = LoadReport()
    for module in modules:
        module.load(second)
    assert second.created["catalog items"] == 0
    assert second.created["catalog item versions"] == 0
