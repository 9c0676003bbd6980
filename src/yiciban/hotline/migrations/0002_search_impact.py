"""The shared search (yiciban.core.search): postings carry their impact (the BM25 term part
× 1000), the covering index orders a word's postings by it, and the entries get an index
covering what a search checks of each match. Existing postings get their impact here."""

from django.db import migrations, models


def fill_impacts(apps, schema_editor):
    from yiciban.core.search import impact

    Posting = apps.get_model("hotline", "KnowledgePosting")
    Stats = apps.get_model("hotline", "KnowledgeIndexStats")
    stats = Stats.objects.filter(pk=1).first()
    if stats is None or not stats.document_count:
        return
    avg = stats.total_length / stats.document_count
    rows = Posting.objects.values_list("weight", "entry_length").distinct()
    for weight, length in rows.iterator():
        Posting.objects.filter(weight=weight, entry_length=length).update(
            impact=impact(weight, length, avg)
        )


class Migration(migrations.Migration):
    dependencies = [("hotline", "0001_initial")]

    operations = [
        migrations.RemoveIndex(model_name="knowledgeposting", name="hotline_posting_cover"),
        migrations.AddField(
            model_name="knowledgeposting",
            name="impact",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddIndex(
            model_name="knowledgeposting",
            index=models.Index(
                fields=["term", "-impact", "entry", "weight", "entry_length"],
                name="hotline_posting_impact",
            ),
        ),
        migrations.AddIndex(
            model_name="knowledgeentry",
            index=models.Index(
                fields=["id", "valid_from", "valid_until", "region", "department"],
                name="hotline_entry_filter",
            ),
        ),
        # Data last: PostgreSQL refuses CREATE INDEX on a table with row updates pending
        # deferred trigger events in the same transaction.
        migrations.RunPython(fill_impacts, migrations.RunPython.noop),
    ]
