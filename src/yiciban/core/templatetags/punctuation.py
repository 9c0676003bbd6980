"""Punctuation between a translated label and a value, in the page's language.

Chinese pages join a label and its value with a full-width colon and list items with 、;
an English page needs ": " and ", ". `{% load punctuation %}` then `{% colon %}`,
`{% listsep %}`, `{% comma %}`, `{% semicolon %}`, `{% lparen %}`, `{% rparen %}`, and
`{{ items|listjoin }}` for a list (message context "punctuation" in the catalogues)."""

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import pgettext

register = template.Library()


@register.simple_tag
def colon() -> str:
    return pgettext("punctuation", "：")


@register.simple_tag
def listsep() -> str:
    return pgettext("punctuation", "、")


@register.simple_tag
def comma() -> str:
    return pgettext("punctuation", "，")


@register.simple_tag
def semicolon() -> str:
    return pgettext("punctuation", "；")


@register.filter(is_safe=True, needs_autoescape=True)
def listjoin(items, autoescape=True) -> str:
    """The items joined with the page language's list separator (、 or ", "), each escaped
    as Django's `join` filter escapes them."""
    escape = conditional_escape if autoescape else str
    return mark_safe(escape(listsep()).join(escape(item) for item in items))


@register.simple_tag
def lparen() -> str:
    return pgettext("punctuation", "（")


@register.simple_tag
def rparen() -> str:
    return pgettext("punctuation", "）")
