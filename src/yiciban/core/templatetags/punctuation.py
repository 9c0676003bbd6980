"""Punctuation between a translated label and a value, in the page's language.

Chinese pages join a label and its value with a full-width colon and list items with 、;
an English page needs ": " and ", ". `{% load punctuation %}` then `{% colon %}`,
`{% listsep %}`, `{% comma %}`, `{% lparen %}`, `{% rparen %}` (message context
"punctuation" in the catalogues)."""

from django import template
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
def lparen() -> str:
    return pgettext("punctuation", "（")


@register.simple_tag
def rparen() -> str:
    return pgettext("punctuation", "）")
