"""Shared org fixtures (tests/org/fixtures.py)."""

from tests.org.fixtures import platform_admin, tree  # noqa: F401
