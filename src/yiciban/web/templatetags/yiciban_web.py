"""Template helpers that work without a request context (500.html renders without one)."""

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template.loader_tags import BLOCK_CONTEXT_KEY
from django.urls import get_script_prefix, get_urlconf
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from yiciban.web.context_processors import current_site_name

register = template.Library()


@register.simple_tag
def platform_name() -> str:
    return current_site_name()


# --- the site header, rendered once per variant ---------------------------------------------
#
# Every page renders the same header (language and large-type forms, login link, 20-odd nav
# links: ~40 template nodes, translations, URL reversals) and for an anonymous visitor it
# differs only in the CSRF token and the `next` path of its forms. `{% layout_memo %}`
# renders its body once per variant with placeholders for those two and afterwards only puts
# the request's values in. Signed-in users get the normal render (their name and roles show).

_MEMO_CSRF = "yiciban-layout-memo-csrf-7d1e"
_MEMO_PATH = "/yiciban-layout-memo-path-7d1e"
_MEMO_MAX = 256
_layout_memo: dict[tuple, str] = {}


@receiver(setting_changed)
def _forget_layout_memo(**kwargs) -> None:
    # tests change languages, URL configurations and site names
    _layout_memo.clear()


class _MaskedRequest:
    """The request as the memo's body sees it: the full path is the placeholder."""

    __slots__ = ("_request",)

    def __init__(self, request) -> None:
        self._request = request

    def get_full_path(self) -> str:
        return _MEMO_PATH

    def __getattr__(self, name):
        return getattr(self._request, name)


class LayoutMemoNode(template.Node):
    def __init__(self, name: str, nodelist) -> None:
        self.name = name
        self.nodelist = nodelist

    def _key(self, context):
        request = context.get("request")
        user = context.get("user")
        nav = context.get("nav_sections")
        if request is None or user is None or nav is None or user.is_authenticated:
            return None
        blocks = context.render_context.get(BLOCK_CONTEXT_KEY)
        return (
            self.name,
            get_language(),
            tuple(code for code, _name in settings.LANGUAGES),
            get_urlconf() or settings.ROOT_URLCONF,
            get_script_prefix(),
            context.autoescape,
            bool(context.get("large_type")),
            str(context.get("platform_name", "")),
            # a template that overrides a block inside the body renders another body
            tuple(id(blocks.get_block(name)) for name in ("nav",)) if blocks else None,
            tuple((id(item.section), item.url, item.current) for item in nav),
        )

    def render(self, context) -> str:
        key = self._key(context)
        token = context.get("csrf_token")
        token = str(token) if token is not None else ""
        if key is None or not token or token == "NOTPROVIDED":
            return self.nodelist.render(context)
        html = _layout_memo.get(key)
        if html is None:
            with context.push(csrf_token=_MEMO_CSRF, request=_MaskedRequest(context["request"])):
                html = self.nodelist.render(context)
            if len(_layout_memo) >= _MEMO_MAX:
                _layout_memo.clear()
            _layout_memo[key] = html
        path = context["request"].get_full_path()
        return mark_safe(
            html.replace(_MEMO_CSRF, conditional_escape(token)).replace(
                _MEMO_PATH, conditional_escape(path) if context.autoescape else path
            )
        )


@register.tag
def layout_memo(parser, token):
    """{% layout_memo "name" %}…{% endlayout_memo %}: see LayoutMemoNode."""
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError("layout_memo takes one name")
    nodelist = parser.parse(("endlayout_memo",))
    parser.delete_first_token()
    return LayoutMemoNode(bits[1].strip("\"'"), nodelist)
