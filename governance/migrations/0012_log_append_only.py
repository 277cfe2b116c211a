"""The chain's fields go; the database refuses every change to an event except the integrator's
one (leaf_index from NULL to a value, everything else unchanged), and every change to the tree.

As in 0002, SQLite guards UPDATE only (the test runner resets it with DELETE); the models refuse
deletes on every database, and a removed event or node shows against the witnesses' checkpoints.
"""

from django.db import migrations, models

EVENT_COLUMNS = [
    "id", "created_at", "actor_id", "actor_repr", "verb", "object_type", "object_id", "object_repr",
    "changes", "salt", "commitment",
]
SQLITE_SAME = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in EVENT_COLUMNS)
PG_NEW = ", ".join(f"NEW.{c}" for c in EVENT_COLUMNS)
PG_OLD = ", ".join(f"OLD.{c}" for c in EVENT_COLUMNS)

SQLITE = [
    f"""CREATE TRIGGER governance_auditevent_no_update BEFORE UPDATE ON governance_auditevent
       WHEN NOT (OLD.leaf_index IS NULL AND NEW.leaf_index IS NOT NULL AND {SQLITE_SAME})
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
    """CREATE TRIGGER governance_lognode_no_update BEFORE UPDATE ON governance_lognode
       BEGIN SELECT RAISE(ABORT, 'the log''s tree is append-only'); END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS governance_auditevent_no_update",
    "DROP TRIGGER IF EXISTS governance_lognode_no_update",
]
POSTGRESQL = [
    f"""CREATE OR REPLACE FUNCTION governance_auditevent_append_only() RETURNS trigger AS $$
       BEGIN
         IF TG_OP = 'UPDATE' AND OLD.leaf_index IS NULL AND NEW.leaf_index IS NOT NULL
            AND ROW({PG_NEW}) IS NOT DISTINCT FROM ROW({PG_OLD}) THEN
           RETURN NEW;
         END IF;
         RAISE EXCEPTION 'audit events are append-only';
       END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER governance_auditevent_append_only BEFORE UPDATE OR DELETE ON governance_auditevent
       FOR EACH ROW EXECUTE FUNCTION governance_auditevent_append_only()""",
    """CREATE OR REPLACE FUNCTION governance_lognode_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'the log''s tree is append-only'; END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER governance_lognode_append_only BEFORE UPDATE OR DELETE ON governance_lognode
       FOR EACH ROW EXECUTE FUNCTION governance_lognode_append_only()""",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS governance_auditevent_append_only ON governance_auditevent",
    "DROP TRIGGER IF EXISTS governance_lognode_append_only ON governance_lognode",
    "DROP FUNCTION IF EXISTS governance_lognode_append_only()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("governance", "0011_log_tree")]

    operations = [
        migrations.AlterModelOptions(name="auditevent", options={"ordering": ["id"]}),
        migrations.RemoveConstraint(model_name="auditevent", name="auditevent_unique_sequence"),
        migrations.RemoveConstraint(model_name="auditevent", name="auditevent_unique_hash"),
        migrations.RemoveField(model_name="auditevent", name="hash"),
        migrations.RemoveField(model_name="auditevent", name="prev_hash"),
        migrations.RemoveField(model_name="auditevent", name="sequence"),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.UniqueConstraint(
                fields=("leaf_index",),
                name="auditevent_unique_leaf_index",
                violation_error_message="An event is one leaf of the log, and a leaf one event.",
            ),
        ),
        # Last: on SQLite the field removals above rebuild the table, which drops its triggers.
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRESQL}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}),
        ),
    ]
