"""A batch names the run of ids its records hold, so the records need no index on their batch.

Each batch posted so far numbered its records in one run under the ledger lock; the run is
written down where the records show it (as many ids from the first to the last as records),
before the index goes. A batch whose records did not show one keeps no run, and is found by a
scan of the records.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('compute', '0017_usage_batch_leaves_per_debit'),
    ]

    operations = [
        migrations.AddField(
            model_name='usagebatch',
            name='first_record',
            field=models.PositiveBigIntegerField(blank=True, editable=False, help_text='The id of its first usage record: its `posted` records have the ids that follow, without gaps.', null=True),
        ),
        migrations.RunSQL(
            """
            UPDATE compute_usagebatch SET first_record = (
                SELECT MIN(r.id) FROM compute_usagerecord r WHERE r.batch_id = compute_usagebatch.id
                HAVING MAX(r.id) - MIN(r.id) + 1 = COUNT(*) AND COUNT(*) = compute_usagebatch.posted
            )
            """,
            migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name='usagerecord',
            name='batch',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, editable=False, help_text='The batch that posted it; its audit event commits to this debit.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='records', to='compute.usagebatch'),
        ),
    ]
