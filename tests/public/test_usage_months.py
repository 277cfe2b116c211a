"""The public usage sums: per resource, month and lead sector, rebuilt only for the months new
usage touches, the same whether the refresh runs once or twice."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from compute.models import UsageMonth
from compute.services.credits import usage
from compute.services.credits.usage_months import refresh_usage_months
from tests.compute.credits import CreditsTestCase

D = Decimal


class UsageMonthTests(CreditsTestCase):
    def post(self, charter, when: datetime.datetime, hours: str, source: str = "test"):
        usage.post_usage(source=source, resource=self.gpu, charter=charter, hour=when, unit_hours=D(hours))

    def test_usage_is_summed_per_resource_month_and_lead_sector(self):
        this_month = timezone.now().replace(day=1, hour=3, minute=0, second=0, microsecond=0)
        last_month = (this_month - datetime.timedelta(days=3)).replace(day=2)
        self.post(self.charter, this_month, "2")
        self.post(self.charter, this_month + datetime.timedelta(hours=1), "3")
        self.post(self.restricted, this_month, "7")
        self.post(self.charter, last_month, "1")
        self.assertEqual(refresh_usage_months(), 2)
        sums = {(m.month, m.sector): (m.unit_hours, m.charters) for m in UsageMonth.objects.all()}
        self.assertEqual(
            sums,
            {
                (this_month.date(), "public"): (D("5"), 1),
                (this_month.date(), "private"): (D("7"), 1),
                (last_month.date().replace(day=1), "public"): (D("1"), 1),
            },
        )
        self.assertEqual(UsageMonth.objects.get(month=this_month.date(), sector="public").credits, D("12.5"))

    def test_a_second_refresh_changes_nothing_and_new_usage_rebuilds_only_its_month(self):
        now = timezone.now().replace(minute=0, second=0, microsecond=0)
        old = (now.replace(day=1) - datetime.timedelta(days=40)).replace(day=5)
        self.post(self.charter, old, "1")
        self.post(self.charter, now, "1")
        refresh_usage_months()
        self.assertEqual(refresh_usage_months(), 0)
        before = UsageMonth.objects.get(month=old.date().replace(day=1))
        self.post(self.charter, now, "2", source="another collector")
        self.assertEqual(refresh_usage_months(), 1)
        self.assertEqual(UsageMonth.objects.get(pk=before.pk).unit_hours, D("1"))  # untouched row
        self.assertEqual(UsageMonth.objects.get(month=now.date().replace(day=1)).unit_hours, D("3"))
