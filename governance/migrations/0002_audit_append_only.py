"""The database itself refuses to change or remove an audit event, whatever the client.

TRUNCATE is left to privileges: the portal's database role should not own the table in
production (see README), and the test runner needs it to reset the database. For the same
reason SQLite (the embedded default, which resets with DELETE) guards UPDATE only; the model
and its queryset refuse deletes on every database, and the hash chain shows any removal.
"""

from django.db import migrations

SQLITE = [
    """CREATE TRIGGER governance_auditevent_no_update BEFORE UPDATE ON governance_auditevent
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS governance_auditevent_no_update",
]
POSTGRESQL = [
    """CREATE OR REPLACE FUNCTION governance_auditevent_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'audit events are append-only'; END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER governance_auditevent_append_only BEFORE UPDATE OR DELETE ON governance_auditevent
       FOR EACH ROW EXECUTE FUNCTION governance_auditevent_append_only()""",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS governance_auditevent_append_only ON governance_auditevent",
    "DROP FUNCTION IF EXISTS governance_auditevent_append_only()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("governance", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRESQL}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}),
        ),
    ]
