"""The audit log becomes a Merkle log: per-event salt and commitment, the leaf index, the node
table, the state row, checkpoints and cosignatures; today's chain becomes the first leaves in
the order of its sequence numbers."""

import os

import django.db.models.deletion
from django.db import migrations, models

from governance.models.audit import event_entry
from governance.transparency import merkle
from governance.transparency.proof import commitment

DROP_OLD_TRIGGERS = {
    "sqlite": ["DROP TRIGGER IF EXISTS governance_auditevent_no_update"],
    "postgresql": ["DROP TRIGGER IF EXISTS governance_auditevent_append_only ON governance_auditevent"],
}


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


def chain_to_leaves(apps, schema_editor):
    """Salt and commit every existing event, and make them leaves 0..n-1 in sequence order."""
    AuditEvent = apps.get_model("governance", "AuditEvent")
    LogNode = apps.get_model("governance", "LogNode")
    LogState = apps.get_model("governance", "LogState")
    tree = merkle.MemoryTree()
    for index, event in enumerate(AuditEvent.objects.order_by("sequence").iterator(chunk_size=1000)):
        salt = os.urandom(32)
        value = commitment(salt, event_entry(event))
        AuditEvent.objects.filter(pk=event.pk).update(salt=salt, commitment=value, leaf_index=index)
        tree.append(merkle.leaf_hash(value))
    LogNode.objects.bulk_create(
        [
            LogNode(level=level, index=index, hash=value)
            for level, row in enumerate(tree.levels)
            for index, value in enumerate(row)
        ],
        batch_size=1000,
    )
    LogState.objects.create(pk=1, size=tree.size, root=tree.root())


class Migration(migrations.Migration):
    dependencies = [("governance", "0010_organization_signatories")]

    operations = [
        migrations.RunPython(_run(DROP_OLD_TRIGGERS), migrations.RunPython.noop),
        migrations.CreateModel(
            name="LogCheckpoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("size", models.PositiveBigIntegerField()),
                ("root", models.BinaryField(max_length=32)),
                (
                    "note",
                    models.TextField(help_text="The checkpoint as a signed note, with the log's signature line."),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "ordering": ["-size"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("size",),
                        name="logcheckpoint_unique_size",
                        violation_error_message="The log signs one checkpoint per tree size.",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="LogNode",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("level", models.PositiveSmallIntegerField()),
                ("index", models.PositiveBigIntegerField()),
                ("hash", models.BinaryField(max_length=32)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("level", "index"),
                        name="lognode_unique_position",
                        violation_error_message="A node of the log's tree is written once.",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="LogState",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("size", models.PositiveBigIntegerField(default=0)),
                ("root", models.BinaryField(max_length=32)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
        ),
        migrations.CreateModel(
            name="Cosignature",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("witness", models.CharField(help_text="The witness key's name.", max_length=200)),
                ("sector", models.CharField(max_length=20)),
                ("line", models.TextField()),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "checkpoint",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="cosignatures",
                        to="governance.logcheckpoint",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("checkpoint", "witness"),
                        name="cosignature_unique_witness",
                        violation_error_message="A witness cosigns a checkpoint once.",
                    )
                ],
            },
        ),
        migrations.AddField(
            model_name="auditevent",
            name="salt",
            field=models.BinaryField(default=b"", editable=False, max_length=32),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="commitment",
            field=models.BinaryField(default=b"", editable=False, max_length=32),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="leaf_index",
            field=models.PositiveBigIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(chain_to_leaves, migrations.RunPython.noop),
    ]
