"""The search page's result items, built in Python: a cold page renders 20 of them, and the
template loop cost ≈ 1 ms of CPU a page (six variable lookups and escapes per row)."""

from django import template
from django.utils.html import conditional_escape as escape
from django.utils.safestring import mark_safe

register = template.Library()

# Exactly what the former `{% for row in result.rows %}` loop of search.html produced.
_ITEM = (
    '\n    <li><a href="{url}">{title}</a>\n'
    '      <span class="meta">{region} · {column} · {date}</span>\n'
    "      <p>{excerpt}</p></li>\n    "
)


@register.simple_tag
def search_result_items(rows) -> str:
    return mark_safe(
        "".join(
            _ITEM.format(
                url=escape(row.url),
                title=escape(row.title),
                region=escape(row.region),
                column=escape(row.column),
                date=escape(row.date),
                excerpt=escape(row.excerpt),
            )
            for row in rows
        )
    )
