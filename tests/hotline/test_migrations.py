"""Migration 0002 (shared search: impact-ordered postings) on a database that already holds
an index: it must create its indexes and fill every posting's impact from the stored weights
and lengths — a test database that starts empty never runs the data step."""

import pytest
from django.db import connection

from tests.migrating import latest, migrate_to
from yiciban.core.search import impact
from yiciban.org.models import Region, RegionLevel

BEFORE = [("hotline", "0001_initial")]
AFTER = [("hotline", "0002_search_impact")]


@pytest.mark.django_db(transaction=True)
def test_impacts_are_filled_on_a_populated_database():
    region = Region.objects.create(
        code="430000000000", name="湖南省", level=RegionLevel.PROVINCE, path="430000000000"
    )
    apps = migrate_to(BEFORE)
    try:
        Entry = apps.get_model("hotline", "KnowledgeEntry")
        Posting = apps.get_model("hotline", "KnowledgePosting")
        Stats = apps.get_model("hotline", "KnowledgeIndexStats")
        entries = [
            Entry.objects.create(
                region_id=region.pk,
                question=f"问题{n}",
                answer="答复",
                status="published",
                index_length=length,
            )
            for n, length in enumerate((4, 9, 20))
        ]
        Stats.objects.create(pk=1, document_count=3, total_length=33)
        rows = [
            ("营业执照", entries[0], 2, 4),
            ("营业执照", entries[1], 1, 9),
            ("办理", entries[1], 3, 9),
            ("办理", entries[2], 1, 20),
        ]
        for term, entry, weight, length in rows:
            Posting.objects.create(term=term, entry=entry, weight=weight, entry_length=length)

        apps = migrate_to(AFTER)

        Posting = apps.get_model("hotline", "KnowledgePosting")
        average = 33 / 3
        for term, entry, weight, length in rows:
            posting = Posting.objects.get(term=term, entry_id=entry.pk)
            assert posting.impact == impact(weight, length, average) > 0
        with connection.cursor() as cursor:
            names = {
                name
                for constraints in [
                    connection.introspection.get_constraints(cursor, "hotline_knowledgeposting"),
                    connection.introspection.get_constraints(cursor, "hotline_knowledgeentry"),
                ]
                for name in constraints
            }
        assert {"hotline_posting_impact", "hotline_entry_filter"} <= names
    finally:
        migrate_to([latest("hotline")])
