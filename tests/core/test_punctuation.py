"""Punctuation in the page's language: lists joined with 、 on Chinese pages and ", " on
English ones, semicolons likewise; items escaped as Django's `join` escapes them."""

from __future__ import annotations

from django.template import Context, Template
from django.utils import translation

TEMPLATE = Template(
    "{% load punctuation %}{{ items|listjoin }}{% semicolon %}{% colon %}{{ safe|listjoin }}"
)


def _render(language: str, **context) -> str:
    with translation.override(language):
        return TEMPLATE.render(Context(context))


def test_lists_and_semicolons_follow_the_page_language():
    context = {"items": ["1栋101", "1栋102"], "safe": []}
    assert _render("zh-hans", **context) == "1栋101、1栋102；："
    assert _render("en", **context) == "1栋101, 1栋102; : "


def test_list_items_are_escaped():
    html = _render("en", items=["<b>x</b>", "a&b"], safe=[])
    assert html.startswith("&lt;b&gt;x&lt;/b&gt;, a&amp;b")
