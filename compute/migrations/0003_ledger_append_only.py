"""The database itself refuses to change or remove ledger transactions, entries, usage records
and rates, whatever the client (the same guard as the audit log's, see governance 0002).

SQLite resets test databases with DELETE, so there only UPDATE is refused; the models and
their querysets refuse deletes on every database.
"""

from django.db import migrations

TABLES = ["compute_ledgertransaction", "compute_ledgerentry", "compute_usagerecord", "compute_resourcerate"]


def _sqlite(table):
    return [
        f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
            BEGIN SELECT RAISE(ABORT, 'the credit ledger is append-only'); END"""
    ]


def _sqlite_drop(table):
    return [f"DROP TRIGGER IF EXISTS {table}_no_update"]


def _postgresql(table):
    return [
        f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION compute_ledger_append_only()"""
    ]


def _postgresql_drop(table):
    return [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}"]


FUNCTION = """CREATE OR REPLACE FUNCTION compute_ledger_append_only() RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION 'the credit ledger is append-only'; END; $$ LANGUAGE plpgsql"""


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(FUNCTION)
    for table in TABLES:
        for statement in {"sqlite": _sqlite, "postgresql": _postgresql}.get(vendor, lambda t: [])(table):
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        for statement in {"sqlite": _sqlite_drop, "postgresql": _postgresql_drop}.get(vendor, lambda t: [])(table):
            schema_editor.execute(statement)
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS compute_ledger_append_only()")


class Migration(migrations.Migration):
    dependencies = [("compute", "0002_ledger")]

    operations = [migrations.RunPython(forwards, backwards)]
