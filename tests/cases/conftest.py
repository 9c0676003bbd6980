"""Fixtures of the case-engine tests (see helpers.py for the world they build)."""

import pytest

from tests.cases.helpers import build_world
from yiciban.catalog import selectors as catalog_selectors


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    # uploads of each test go to its own folder; compiled bundles are per catalogue
    settings.MEDIA_ROOT = tmp_path / "media"
    catalog_selectors.forget_compiled_bundles()
    yield
    catalog_selectors.forget_compiled_bundles()


@pytest.fixture
def world(db):
    return build_world()
