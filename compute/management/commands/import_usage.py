import csv
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from compute.services.credits import usage


class Command(BaseCommand):
    help = (
        "Post usage from an accounting system's export: CSV with a header, or a JSON list, of rows with "
        "hour (ISO 8601), resource (name), charter (id or title) and unit_hours. Re-importing a file "
        "charges nothing twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The CSV or JSON file ('-' is not supported: give a file).")
        parser.add_argument("--source", required=True, help="Name of the accounting system, e.g. slurm-sreport.")

    def handle(self, *args, path, source, **options):
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"No file at {path}.")
        text = file.read_text()
        try:
            rows = json.loads(text) if file.suffix.lower() == ".json" else list(csv.DictReader(text.splitlines()))
        except json.JSONDecodeError as error:
            raise CommandError(f"{path} is not valid JSON: {error}") from error
        result = usage.import_usage(rows, source=source)
        for error in result.errors:
            self.stderr.write(error)
        self.stdout.write(
            f"Posted {result.posted} row(s); {result.already_posted} were already posted; "
            f"{len(result.errors)} could not be read."
        )
        if result.errors:
            raise CommandError(f"{len(result.errors)} row(s) could not be imported.")
