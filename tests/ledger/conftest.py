import pytest


@pytest.fixture(autouse=True)
def _own_keys(settings, tmp_path):
    # Each test signs with its own key in its own instance folder.
    settings.INSTANCE_DIR = tmp_path
    settings.YICIBAN = {**settings.YICIBAN, "LEDGER_ORIGIN": "test.yiciban.example/ledger"}
