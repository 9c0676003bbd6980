import pytest

from yiciban.core import calendar


@pytest.fixture(autouse=True)
def _fresh_calendar():
    # The calendar lives in process memory; a test that changes it (and is rolled back) must
    # not leave its copy to the next test, in this folder or another app's.
    calendar.invalidate()
    yield
    calendar.invalidate()
