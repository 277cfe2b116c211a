from django.core.management.base import BaseCommand

from compute.collectors.prometheus import CollectorError
from compute.models import MetricSource
from compute.services.metrics import collection


class Command(BaseCommand):
    help = "Run one collection pass over every enabled metric source, synchronously."

    def handle(self, *args, **options):
        sources = MetricSource.objects.filter(enabled=True).exclude(kind="push").order_by("name")
        collected = 0
        for source in sources:
            try:
                result = collection.collect_source(source.pk)
            except CollectorError as error:
                self.stderr.write(f"{source.name}: failed: {error}")
                continue
            collected += 1
            note = MetricSource.objects.values_list("status_note", flat=True).get(pk=source.pk)
            self.stdout.write(f"{source.name}: {result.stored} sample(s) stored{f' ({note})' if note else ''}.")
        self.stdout.write(f"Collected from {collected} metric source(s).")
