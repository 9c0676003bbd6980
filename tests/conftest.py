import pytest

from yiciban.core import calendar


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # The manifest storage needs `collectstatic`; tests render templates without it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fresh_catalogue_revision(settings):
    # Tests publish and read back at once, often without committing: read every time. And
    # a test database restarts the revision counter after every rollback or flush, so a
    # bundle compiled by an earlier test must not be taken for this test's.
    from yiciban.catalog.selectors import forget_compiled_bundles

    settings.YICIBAN = {**settings.YICIBAN, "CATALOG_RECHECK_SECONDS": 0}
    forget_compiled_bundles()
    yield
    forget_compiled_bundles()


@pytest.fixture(autouse=True)
def _official_calendar(request):
    """Every test sees the seeded official calendar and a fresh in-memory copy of it.

    The calendar is seeded by a data migration; a transactional test flushes the tables when
    it ends, so the next database test re-seeds them from the package (inside its own
    transaction, so the cost is paid only after a flush). This replaces serialized_rollback,
    which breaks once a flush has renumbered the content types: don't use it."""
    calendar.invalidate()
    marker = request.node.get_closest_marker("django_db")
    if marker is not None:
        transactional = marker.kwargs.get("transaction", False)
        request.getfixturevalue("transactional_db" if transactional else "db")
        _reseed_calendar_if_flushed()
    yield
    calendar.invalidate()


def _reseed_calendar_if_flushed() -> None:
    from yiciban.core.models import CalendarYear
    from yiciban.core.services import calendar_year_import_from_package

    if CalendarYear.objects.exists():
        return
    for year in calendar.package_years():
        calendar_year_import_from_package(actor=None, year=year)
    calendar.invalidate()
