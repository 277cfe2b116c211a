from django.core.management.base import BaseCommand

from compute.services import metrics as services


class Command(BaseCommand):
    help = "Run one collection pass over every enabled metric source, synchronously."

    def handle(self, *args, **options):
        collected = services.collect_all_metrics()
        self.stdout.write(f"Collected from {collected} metric source(s).")
