from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    """The shared cache's table when the cache lives in the database (no REDIS_URL): throttle
    counters must be one for all processes. A no-op for a Redis cache."""
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("governance", "0008_api_tokens_and_sign_in_epoch")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop, elidable=True)]
