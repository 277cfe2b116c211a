from django.core.management.base import BaseCommand

from compute.services.metrics import collection


class Command(BaseCommand):
    help = "Run one collection pass over every enabled metric source, synchronously."

    def handle(self, *args, **options):
        def report(result: collection.CollectionResult) -> None:
            if result.error:
                self.stderr.write(f"{result.source}: failed: {result.error}")
            else:
                note = f" ({result.note})" if result.note else ""
                self.stdout.write(f"{result.source}: {result.stored} sample(s) stored{note}.")

        collected = collection.collect_all_metrics(report=report)
        self.stdout.write(f"Collected from {collected} metric source(s).")
