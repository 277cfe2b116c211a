"""The database itself refuses to change or remove a baseline or its entries, whatever the client.

A baseline is the body's record of what it committed to; a re-baselining adds a new one.
TRUNCATE is left to privileges, as for the audit log (the test runner needs it). As for the
audit log too, SQLite (the embedded default, which resets with DELETE) guards UPDATE only; the
models and their querysets refuse deletes on every database, and entries are protected by
their foreign keys.
"""

from django.db import migrations

TABLES = ["roadmap_baseline", "roadmap_baselineentry"]


def _sqlite(table):
    return [
        f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
            BEGIN SELECT RAISE(ABORT, 'baselines are immutable'); END""",
    ]


def _sqlite_drop(table):
    return [f"DROP TRIGGER IF EXISTS {table}_no_update"]


POSTGRESQL = [
    """CREATE OR REPLACE FUNCTION roadmap_baseline_immutable() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'baselines are immutable'; END; $$ LANGUAGE plpgsql""",
    *(
        f"""CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION roadmap_baseline_immutable()"""
        for table in TABLES
    ),
]
POSTGRESQL_DROP = [
    *(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}" for table in TABLES),
    "DROP FUNCTION IF EXISTS roadmap_baseline_immutable()",
]
SQLITE = [statement for table in TABLES for statement in _sqlite(table)]
SQLITE_DROP = [statement for table in TABLES for statement in _sqlite_drop(table)]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("roadmap", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRESQL}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}),
        ),
    ]
