"""The openness demo loads onto the org demo of 华容县 and a second load writes nothing."""

import pytest

from yiciban.demo_loader import LoadReport
from yiciban.openness import selectors
from yiciban.openness.models import (
    Article,
    ArticleKind,
    Column,
    DisclosureRequest,
    PublishingMode,
    RegionPublishing,
    Suggestion,
)
from yiciban.org import demo as org_demo
from yiciban.org.models import Region, RegionLevel, ServicePoint


@pytest.mark.django_db
def test_demo_loads_three_levels_and_is_idempotent():
    from yiciban.openness import demo

    report = LoadReport()
    org_demo.load(report)
    demo.load(report)
    county = Region.objects.get(code="430623000000")
    townships = Region.objects.filter(parent=county, level=RegionLevel.TOWNSHIP)
    villages = Region.objects.filter(path__startswith=county.path + "/", level=RegionLevel.VILLAGE)
    assert (townships.count(), villages.count()) == (14, 204)
    assert Column.objects.filter(region=county).count() == 12
    assert Column.objects.filter(region__in=villages).count() == 204 * 5
    published = selectors.public_articles()
    assert published.count() >= 30
    assert set(published.values_list("region__level", flat=True)) == {
        "county",
        "township",
        "village",
    }
    interpretation = published.get(kind=ArticleKind.INTERPRETATION)
    assert interpretation.interprets.kind == ArticleKind.POLICY
    assert RegionPublishing.objects.get(region__code="430623101000").mode == PublishingMode.UNIFIED
    playlist = selectors.screen_playlist(ServicePoint.objects.get(code="430623000000-CH1"))
    assert len(playlist["slides"]) >= 5
    assert set(DisclosureRequest.objects.values_list("status", flat=True)) == {
        "received",
        "answered",
    }
    assert selectors.suggestions_published(region=county).count() == 1
    assert selectors.articles_search("耕地地力保护补贴").count >= 1
    counts = (
        Article.objects.count(),
        Column.objects.count(),
        DisclosureRequest.objects.count(),
        Suggestion.objects.count(),
    )
    again = LoadReport()
    org_demo.load(again)
    demo.load(again)
    assert not any(v for k, v in again.created.items() if k.startswith("openness"))
    assert counts == (
        Article.objects.count(),
        Column.objects.count(),
        DisclosureRequest.objects.count(),
        Suggestion.objects.count(),
    )
    assert again.logins[-1][:2] == ("zhanghua_editor", "Demo@2021")
