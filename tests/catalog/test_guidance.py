"""Guidance on a small restaurant bundle built through the services:
registration (base, 1 day) → food licence (5 days) and tobacco licence (7 days, if tobacco);
alcohol filing (0 days, if alcohol, asked only when the shop sells drinks)."""

import datetime as dt

import pytest

from yiciban.catalog import reuse, selectors, services
from yiciban.catalog.reuse import ArchiveHits, ArchiveSubject
from yiciban.core.errors import NotFound, ValidationFailed

pytestmark = pytest.mark.django_db


def codes(result) -> list[str]:
    return [i["code"] for i in result["items"]]


def test_answers_decide_items_with_reasons(restaurant):
    result = selectors.bundle_guidance("restaurant", {"sells_tobacco": False})
    assert codes(result) == [
        restaurant["registration"].implementation_code,
        restaurant["food"].implementation_code,
    ]
    assert {i["code"] for i in result["not_applicable"]} == {
        restaurant["tobacco"].implementation_code,
        restaurant["alcohol"].implementation_code,
    }
    result = selectors.bundle_guidance(
        "restaurant", {"sells_tobacco": True, "sells_drinks": True, "drinks": ["alcohol"]}
    )
    assert len(result["items"]) == 4
    tobacco = next(
        i for i in result["items"] if i["code"] == restaurant["tobacco"].implementation_code
    )
    assert tobacco["reason"] == "销售卷烟"
    assert tobacco["because"] == [
        {
            "question": "sells_tobacco",
            "label": "是否销售卷烟？",
            "answer": True,
            "answer_label": "是",
        }
    ]
    alcohol = next(
        i for i in result["items"] if i["code"] == restaurant["alcohol"].implementation_code
    )
    assert alcohol["because"][0]["answer_label"] == "酒类"
    assert result["complete"] is True


def test_hidden_questions_are_ignored(restaurant):
    # "drinks" is shown only when sells_drinks; its answer must not count otherwise
    result = selectors.bundle_guidance(
        "restaurant", {"sells_tobacco": False, "sells_drinks": False, "drinks": ["alcohol"]}
    )
    assert restaurant["alcohol"].implementation_code not in codes(result)
    assert result["ignored_answers"] == ["drinks"]
    assert "drinks" not in result["visible_questions"]
    partial = selectors.bundle_guidance("restaurant", {})
    assert partial["complete"] is False
    assert "sells_tobacco" in partial["unanswered"]


def test_notice_deduplicates_materials_and_conditions(restaurant):
    result = selectors.bundle_guidance("restaurant", {"sells_tobacco": True})
    materials = {m["kind"]: m for m in result["notice"]["materials"]}
    legal_rep = materials["id.legal_rep"]
    assert len(legal_rep["items"]) == 3  # registration, food, tobacco: asked once
    assert legal_rep["deferrable"] is False  # deferrable only for food, key elsewhere
    assert materials["premises.proof"]["requirement"] == "required"  # optional for food only
    licence = materials["licence.business"]
    assert licence["fetchable"] is True and licence["submit"] is False
    conditions = {c["text"]: c["items"] for c in result["notice"]["conditions"]}
    assert len(conditions["有固定经营场所"]) == 3
    reduction = result["reduction"]
    # item by item: 3 + 3 (food: optional proof not counted) + 3 = 9 required materials
    assert reduction["materials_separate"] == 9
    # bundle: registration.application, id.legal_rep, premises.proof, food.application,
    # tobacco.application (licence.business is fetched)
    assert reduction["materials_bundle"] == 5
    assert reduction["fields_separate"] == 2 + 3 + 3
    assert reduction["fields_bundle"] == 5


def test_merged_schema_asks_shared_fields_once(restaurant):
    result = selectors.bundle_guidance("restaurant", {"sells_tobacco": True})
    schema = result["merged_schema"]
    base = schema["properties"]["base"]["properties"]
    # base item's fields plus those at least two items ask
    assert set(base) == {"enterprise.name", "premises.address", "premises.area_m2"}
    assert base["premises.area_m2"]["minimum"] == 10  # tightest bound of the items
    assert base["premises.area_m2"]["type"] == "number"  # from the registry
    assert set(base["enterprise.name"]["x-items"]) == {
        restaurant["registration"].implementation_code,
        restaurant["food"].implementation_code,
        restaurant["tobacco"].implementation_code,
    }
    assert "premises.area_m2" in schema["properties"]["base"]["required"]
    food = schema["properties"][restaurant["food"].implementation_code]["properties"]
    tobacco = schema["properties"][restaurant["tobacco"].implementation_code]["properties"]
    assert set(food) == {"food.items"} and set(tobacco) == {"tobacco.distance_m"}
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(schema)


def test_promised_limit_is_the_longest_path(restaurant):
    with_tobacco = selectors.bundle_guidance("restaurant", {"sells_tobacco": True})[
        "promised_limit"
    ]
    assert with_tobacco["days"] == 1 + 5 + 7
    assert with_tobacco["critical_path"] == [
        restaurant["registration"].implementation_code,
        restaurant["food"].implementation_code,
        restaurant["tobacco"].implementation_code,
    ]
    alcohol_only = selectors.bundle_guidance(
        "restaurant", {"sells_tobacco": False, "sells_drinks": True, "drinks": ["alcohol"]}
    )["promised_limit"]
    assert alcohol_only["days"] == 6  # alcohol filing (0 days) runs in parallel
    assert alcohol_only["separate_days"] == 6


def test_wrong_answers_name_the_question(restaurant):
    cases = [
        ({"sells_tobacco": "yes"}, "answers.sells_tobacco", "type"),
        ({"drinks": ["beer"]}, "answers.drinks", "choice"),
        ({"scale": "huge"}, "answers.scale", "choice"),
        ({"seats": 900}, "answers.seats", "maximum"),
        ({"seats": True}, "answers.seats", "type"),
        ({"colour": "red"}, "answers.colour", "unknown_question"),
    ]
    for answers, field, rule in cases:
        with pytest.raises(ValidationFailed) as exc:
            selectors.bundle_guidance("restaurant", answers)
        assert (exc.value.errors[0].field, exc.value.errors[0].rule) == (field, rule), answers


def test_unknown_bundle(restaurant):
    with pytest.raises(NotFound):
        selectors.bundle_guidance("no-such-bundle", {})


def test_archive_hook_marks_reusable_materials_and_prefills(restaurant, monkeypatch):
    # only this test's double answers (the archive app registers the real lookup)
    monkeypatch.setattr(reuse, "_lookups", [])
    subject = ArchiveSubject(kind="enterprise", identifier="91430623MA4L00000X")
    asked = {}

    def archive(who, materials, elements):
        asked["who"], asked["materials"], asked["elements"] = who, materials, elements
        if who != subject:
            return ArchiveHits()
        return ArchiveHits(
            materials={"premises.proof": "doc:lease-2021"},
            fields={"enterprise.name": "华容县好味餐馆"},
        )

    without = selectors.bundle_guidance("restaurant", {"sells_tobacco": False}, subject=subject)
    assert without["prefill"] == {}  # nothing registered: nothing reusable
    reuse.register_archive_lookup(archive)
    try:
        result = selectors.bundle_guidance("restaurant", {"sells_tobacco": False}, subject=subject)
    finally:
        reuse.unregister_archive_lookup(archive)
    assert asked["who"] == subject
    assert "licence.business" not in asked["materials"]  # fetched anyway, not asked
    proof = next(m for m in result["notice"]["materials"] if m["kind"] == "premises.proof")
    assert proof["reusable"] is True and proof["submit"] is False
    assert proof["archive_reference"] == "doc:lease-2021"
    assert result["prefill"] == {"enterprise.name": "华容县好味餐馆"}
    assert (
        result["reduction"]["materials_after_reuse"] == result["reduction"]["materials_bundle"] - 1
    )
    # the shared (cached) notice was not changed for other applicants
    again = selectors.bundle_guidance("restaurant", {"sells_tobacco": False})
    proof = next(m for m in again["notice"]["materials"] if m["kind"] == "premises.proof")
    assert proof["reusable"] is False and "archive_reference" not in proof


def test_publication_invalidates_the_compiled_bundle(restaurant, admin_user):
    first = selectors.compiled_bundle("restaurant")
    assert selectors.compiled_bundle("restaurant") is first  # cached
    item = restaurant["food"]
    draft = services.item_version_draft_create(actor=admin_user, item=item)
    services.item_version_update(actor=admin_user, version=draft, promised_limit=3)
    services.item_version_publish(actor=admin_user, version=draft, effective_from=dt.date.today())
    second = selectors.compiled_bundle("restaurant")
    assert second is not first
    result = selectors.bundle_guidance("restaurant", {"sells_tobacco": False})
    food = next(i for i in result["items"] if i["code"] == item.implementation_code)
    assert food["version"] == 2 and food["promised_limit"] == 3
    assert result["promised_limit"]["days"] == 1 + 3


def test_withdrawn_member_is_reported_unavailable(restaurant, admin_user):
    services.item_version_withdraw(actor=admin_user, version=restaurant["tobacco"].versions.get())
    result = selectors.bundle_guidance("restaurant", {"sells_tobacco": True})
    assert restaurant["tobacco"].implementation_code not in codes(result)
    assert result["unavailable"] == ["烟草专卖零售许可证核发"]
