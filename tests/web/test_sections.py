import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured

from yiciban.web import sections


@pytest.fixture
def scratch_registry(monkeypatch):
    monkeypatch.setattr(sections, "_registry", {})
    return sections


def _add(registry, key, **extra):
    fields = {
        "title": f"栏目{key}",
        "description": "说明",
        "url_name": "web:deadline_tool",
    }
    fields.update(extra)
    return registry.register(key=key, **fields)


def test_sections_are_ordered_by_audience_then_order(scratch_registry):
    _add(scratch_registry, "staff_first", audience="staff", order=1)
    _add(scratch_registry, "public_late", audience="public", order=50)
    _add(scratch_registry, "public_early", audience="public", order=5)
    keys = [s.key for s in scratch_registry.registered()]
    assert keys == ["public_early", "public_late", "staff_first"]


def test_same_definition_twice_is_accepted_but_a_clash_is_refused(scratch_registry):
    _add(scratch_registry, "tool")
    _add(scratch_registry, "tool")
    with pytest.raises(ImproperlyConfigured, match="tool"):
        _add(scratch_registry, "tool", title="另一个栏目")


def test_unknown_audience_is_refused(scratch_registry):
    with pytest.raises(ValueError):
        _add(scratch_registry, "tool", audience="robots")


def test_visibility_predicate_and_unresolvable_urls_filter_sections(scratch_registry):
    _add(scratch_registry, "open")
    _add(scratch_registry, "staff_only", visible=lambda user: user.is_staff)
    _add(scratch_registry, "dead", url_name="no_such_app:index")
    shown = scratch_registry.visible_sections(AnonymousUser())
    assert [item.section.key for item in shown] == ["open"]
    assert shown[0].url == "/tools/deadline/"


def test_current_section_is_flagged_by_path_prefix(scratch_registry):
    _add(scratch_registry, "deadline")
    _add(scratch_registry, "ids", url_name="web:identifier_tool")
    shown = scratch_registry.visible_sections(AnonymousUser(), current_path="/tools/deadline/")
    assert [(item.section.key, item.current) for item in shown] == [
        ("deadline", True),
        ("ids", False),
    ]


def test_apps_contribute_sections_through_their_app_config(scratch_registry):
    class FakeConfig:
        home_sections = [
            {
                "key": "catalog",
                "title": "办事指南",
                "description": "事项清单和办事指南",
                "url_name": "web:home",
                "audience": "public",
                "order": 30,
            }
        ]

    class ConfigWithoutSections:
        pass

    scratch_registry.collect_app_sections([FakeConfig(), ConfigWithoutSections()])
    (section,) = scratch_registry.registered()
    assert section.key == "catalog"
    assert section.audience is sections.Audience.PUBLIC


def test_grouping_keeps_audience_order(scratch_registry):
    _add(scratch_registry, "desk", audience="staff")
    _add(scratch_registry, "tool", audience="public")
    groups = scratch_registry.grouped(scratch_registry.visible_sections(AnonymousUser()))
    assert [(audience.value, [i.section.key for i in items]) for audience, items in groups] == [
        ("public", ["tool"]),
        ("staff", ["desk"]),
    ]


def test_the_installed_platform_registers_its_sections():
    keys = {s.key for s in sections.registered()}
    assert {"deadline_tool", "identifier_tool", "api_docs", "workbench", "admin"} <= keys
