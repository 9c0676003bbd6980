from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext, gettext_noop

from .sections import visible_sections

# The default deployment name, marked so that makemessages puts it in the catalogue and the
# English page says it in English. A deployment that sets YICIBAN_SITE_NAME gets its own
# name as written (unless its catalogue translates it too).
DEFAULT_SITE_NAME = gettext_noop("一次办 · 湖南县域政务服务平台")

LARGE_TYPE_COOKIE = "yiciban_large_type"


def current_site_name() -> str:
    return gettext(settings.YICIBAN["SITE_NAME"])


def large_type_enabled(request) -> bool:
    return request.COOKIES.get(LARGE_TYPE_COOKIE) == "1"


def site(request):
    name = current_site_name()
    return {
        # platform_name is what base.html shows: Django's auth views put their own
        # `site_name` (the request's host) into the context and would override this one.
        "platform_name": name,
        "site_name": name,
        "large_type": large_type_enabled(request),
        # Lazy: pages that do not show the header (API docs, errors) never compute it.
        "nav_sections": SimpleLazyObject(
            # no user yet when a request fails before the auth middleware (400 DisallowedHost)
            lambda: visible_sections(
                getattr(request, "user", None) or AnonymousUser(), current_path=request.path
            )
        ),
    }
