"""The shared search (yiciban.core.search): postings carry the article's length and their
impact (the BM25 term part × 1000), the covering index orders a word's postings by it, and
the collection statistics are kept in a row. Existing postings and statistics are filled
here."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery, Sum


def fill(apps, schema_editor):
    from yiciban.core.search import impact

    Article = apps.get_model("openness", "Article")
    Posting = apps.get_model("openness", "SearchPosting")
    Stats = apps.get_model("openness", "SearchIndexStats")
    indexed = Article.objects.filter(search_length__gt=0)
    count = indexed.count()
    total = indexed.aggregate(total=Sum("search_length"))["total"] or 0
    Stats.objects.update_or_create(pk=1, defaults={"document_count": count, "total_length": total})
    if not count:
        return
    Posting.objects.update(
        doc_length=Subquery(
            Article.objects.filter(pk=OuterRef("article_id")).values("search_length")[:1]
        )
    )
    avg = total / count
    rows = Posting.objects.values_list("tf", "doc_length").distinct()
    for tf, length in rows.iterator():
        Posting.objects.filter(tf=tf, doc_length=length).update(impact=impact(tf, length, avg))


class Migration(migrations.Migration):
    dependencies = [("openness", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="SearchIndexStats",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("document_count", models.PositiveIntegerField(default=0)),
                ("total_length", models.PositiveBigIntegerField(default=0)),
            ],
        ),
        migrations.RemoveIndex(model_name="searchposting", name="openness_posting_term"),
        migrations.AddField(
            model_name="searchposting",
            name="doc_length",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="searchposting",
            name="impact",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddIndex(
            model_name="searchposting",
            index=models.Index(
                fields=["term", "-impact", "article", "tf", "doc_length"],
                name="openness_posting_impact",
            ),
        ),
        # Data last: PostgreSQL refuses CREATE INDEX on a table with row updates pending
        # deferred trigger events in the same transaction.
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
