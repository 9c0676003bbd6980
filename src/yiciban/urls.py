from django.contrib import admin
from django.urls import include, path

from yiciban.api import api
from yiciban.licences import views as licence_views
from yiciban.web import views as web_views

# Pages are not language-prefixed: the language comes from the user's choice (cookie set by
# /i18n/setlang/) or the browser, defaulting to Chinese.
urlpatterns = [
    path("api/", api.urls),
    path("healthz", web_views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("ledger/", include("yiciban.ledger.urls")),
    path("catalog/", include("yiciban.catalog.urls")),
    path("notifications/", include("yiciban.notifications.urls")),
    path("openness/", include("yiciban.openness.urls")),
    path("hotline/", include("yiciban.hotline.urls")),
    path(".well-known/jwks.json", licence_views.jwks, name="jwks"),
    path("licences/", include("yiciban.licences.urls")),
    path("archive/", include("yiciban.archive.urls")),
    path("sharing/", include("yiciban.sharing.urls")),
    path("housing/", include("yiciban.housing.urls")),
    path("cases/", include("yiciban.cases.urls")),
    path("", include("yiciban.web.urls")),
]
