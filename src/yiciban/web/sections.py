"""Home-page sections: each part of the platform that has pages contributes a section
(title, description, URL name, audience, order); the home page and the header show the
registered sections whose URL resolves for the current user — a link appears exactly when
its page exists, so there are no dead links and no "coming soon" placeholders.

Two ways in:
- code in the faces layer (this app, the assembled API) calls `register(...)`;
- an app of a lower layer, which must not import `yiciban.web` (layers point down), lists
  plain keyword dicts in its AppConfig's `home_sections` attribute; `collect_app_sections()`
  (run from WebConfig.ready) registers them:

      class CatalogConfig(AppConfig):
          home_sections = [
              {"key": "catalog", "title": _("办事指南"), "description": _("…"),
               "url_name": "catalog:index", "audience": "public", "order": 30},
          ]
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Audience(StrEnum):
    PUBLIC = "public"  # residents, enterprises, anyone
    STAFF = "staff"  # government staff; the entry is shown to all so staff can find it

    @property
    def label(self) -> str:
        return str(AUDIENCE_LABELS[self])


AUDIENCE_LABELS = {Audience.PUBLIC: _("公众服务"), Audience.STAFF: _("工作人员")}

Visibility = Callable[[Any], bool]  # called with request.user (may be anonymous)


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    description: str
    url_name: str
    audience: Audience = Audience.PUBLIC
    order: int = 100
    # None: everyone sees the entry (the page itself still checks permissions)
    visible: Visibility | None = None


@dataclass(frozen=True)
class ShownSection:
    section: Section
    url: str
    current: bool = False

    @property
    def title(self) -> str:
        return self.section.title

    @property
    def description(self) -> str:
        return self.section.description


_registry: dict[str, Section] = {}


def register(
    *,
    key: str,
    title: str,
    description: str,
    url_name: str,
    audience: Audience | str = Audience.PUBLIC,
    order: int = 100,
    visible: Visibility | None = None,
) -> Section:
    section = Section(
        key=key,
        title=title,
        description=description,
        url_name=url_name,
        audience=Audience(audience),
        order=order,
        visible=visible,
    )
    existing = _registry.get(key)
    # Re-registering the same definition is harmless (ready() may run again in tests); a
    # different section under a taken key is a copy-paste mistake worth failing loudly on.
    if existing is not None and existing != section:
        raise ImproperlyConfigured(f"home section key {key!r} is already registered")
    _registry[key] = section
    return section


def unregister(key: str) -> None:
    _registry.pop(key, None)


def registered() -> list[Section]:
    return sorted(_registry.values(), key=_sort_key)


def collect_app_sections(app_configs: Iterable[Any] | None = None) -> None:
    for config in app_configs if app_configs is not None else apps.get_app_configs():
        for entry in getattr(config, "home_sections", ()):
            register(**entry)


def _sort_key(section: Section) -> tuple[int, int, str]:
    return (list(Audience).index(section.audience), section.order, section.key)


def visible_sections(user: Any, *, current_path: str | None = None) -> list[ShownSection]:
    """The sections this user may see whose URL resolves, in display order."""
    shown = []
    for section in registered():
        if section.visible is not None and not section.visible(user):
            continue
        try:
            url = _section_url(
                section.url_name,
                get_urlconf() or settings.ROOT_URLCONF,
                get_script_prefix(),
                get_language(),
            )
        except NoReverseMatch:
            continue  # the app is not installed or its page is not routed: no dead link
        item = ShownSection(section=section, url=url)
        shown.append(item)
    if current_path is not None:
        # Only the most specific matching section is "current" (/catalog/bundles/… is the
        # bundles section, not also the catalogue's).
        matching = [i for i in shown if _is_current(i.url, current_path)]
        if matching:
            best = max(matching, key=lambda i: len(i.url))
            shown = [replace(i, current=True) if i is best else i for i in shown]
    return shown


@functools.lru_cache(maxsize=1024)
def _section_url(url_name: str, urlconf: str, script_prefix: str, language: str | None) -> str:
    # Every page's header reverses all sections (≈ 1 ms a page for 23): remembered per URL
    # configuration, prefix and language, which are all the result depends on. A name that
    # does not resolve raises, and is not remembered.
    return reverse(url_name, urlconf=urlconf)


def _is_current(url: str, path: str) -> bool:
    return path == url or (url != "/" and url.endswith("/") and path.startswith(url))


def grouped(sections: Iterable[ShownSection]) -> list[tuple[Audience, list[ShownSection]]]:
    """[(audience, [sections…]), …] for the audiences that have any, in audience order."""
    groups: dict[Audience, list[ShownSection]] = {}
    for item in sections:
        groups.setdefault(item.section.audience, []).append(item)
    return [(audience, groups[audience]) for audience in Audience if audience in groups]
