"""Entry indices move from the wide `ledger_entry.log_index` column to the narrow
`ledger_entryindex` table, and the integrator's queue (entries without an index) to
`ledger_pendingseq`. The data migration carries every existing index and pending entry."""

import django.db.models.deletion
from django.db import migrations, models

FORWARD = [
    "INSERT INTO ledger_entryindex (seq, log_index) "
    "SELECT seq, log_index FROM ledger_entry WHERE log_index IS NOT NULL",
    "INSERT INTO ledger_pendingseq (seq) SELECT seq FROM ledger_entry WHERE log_index IS NULL",
]
BACKWARD = [
    "UPDATE ledger_entry SET log_index = (SELECT i.log_index FROM ledger_entryindex i "
    "WHERE i.seq = ledger_entry.seq)",
]


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0002_logstate_epoch"),
    ]

    operations = [
        migrations.CreateModel(
            name="EntryIndex",
            fields=[
                (
                    "entry",
                    models.OneToOneField(
                        db_column="seq",
                        db_constraint=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="position",
                        serialize=False,
                        to="ledger.entry",
                    ),
                ),
                (
                    "index",
                    models.BigIntegerField(
                        db_column="log_index", unique=True, verbose_name="日志序号"
                    ),
                ),
            ],
            options={
                "verbose_name": "条目序号",
                "verbose_name_plural": "条目序号",
            },
        ),
        migrations.CreateModel(
            name="PendingSeq",
            fields=[
                ("seq", models.BigIntegerField(primary_key=True, serialize=False)),
            ],
            options={
                "verbose_name": "待并入条目",
                "verbose_name_plural": "待并入条目",
            },
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
        migrations.RemoveIndex(
            model_name="entry",
            name="ledger_entry_pending",
        ),
        migrations.RemoveField(
            model_name="entry",
            name="index",
        ),
    ]
