"""Template helpers that work without a request context (500.html renders without one)."""

from django import template

from yiciban.web.context_processors import current_site_name

register = template.Library()


@register.simple_tag
def platform_name() -> str:
    return current_site_name()
