from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_refresh_command_reports_how_many_items_changed():
    out = StringIO()
    call_command("cases_refresh_clocks", stdout=out)
    assert out.getvalue().strip() == "0 case items updated"
