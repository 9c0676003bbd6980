"""The English catalogue: compiled, complete, and in use."""

from pathlib import Path

import polib
import pytest
from django.conf import settings

LOCALE = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES"
PO = LOCALE / "django.po"
MO = LOCALE / "django.mo"


def _key(entry) -> tuple[str | None, str]:
    return (entry.msgctxt, entry.msgid)


def _translations(entries) -> dict:
    return {
        _key(e): (e.msgstr, tuple(sorted(e.msgstr_plural.items())))
        for e in entries
        if e.msgid and not e.obsolete and "fuzzy" not in e.flags
    }


def test_compiled_catalogue_matches_its_source():
    """A fresh machine needs no gettext: django.mo is committed and must be rebuilt
    (`yiciban compilemessages`) whenever django.po changes."""
    po = polib.pofile(str(PO))
    mo = polib.mofile(str(MO))
    assert _translations(mo) == _translations(po.translated_entries())


def test_every_string_has_an_english_translation():
    po = polib.pofile(str(PO))
    missing = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert missing == [], f"untranslated: {missing[:10]}"
    assert fuzzy == [], f"fuzzy (check and clear the flag): {fuzzy[:10]}"


@pytest.mark.django_db
def test_home_page_in_english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get("/").content.decode()
    assert '<html lang="en"' in html
    assert "Yiciban" in html
    assert "Working-day deadline calculator" in html
    assert "办理时限计算" not in html


@pytest.mark.django_db
def test_reference_api_reason_in_english(client):
    response = client.get(
        "/api/v1/reference/identifiers/uscc/91430623MA4L1234",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is False
    assert body["reason"] == "A unified social credit code has 18 characters, not 16"


@pytest.mark.django_db
def test_reference_api_reason_in_chinese_by_default(client):
    response = client.get("/api/v1/reference/identifiers/uscc/91430623MA4L1234")
    assert response.json()["reason"] == "统一社会信用代码应为18位，实际为16位"
