"""Every credit API resource gets the generic checks: anonymous callers, refused and permitted
writes, list and detail agreeing, JSON 404s, nothing deleted, and lists whose query count does
not grow with their rows."""

import datetime
from decimal import Decimal

from compute.choices import ResourceKind
from compute.models import LedgerTransaction
from compute.services.credits import pools, resources
from tests.api_checks import APIResourceChecks
from tests.compute.credits import CreditsTestCase, make_charter

D = Decimal


class ResourceAPITests(APIResourceChecks, CreditsTestCase):
    url = "/api/resources/"
    allowed_reader = "staff"
    refused_writer = "public_chair"

    def make_object(self, n):
        return resources.create_resource(
            self.admin, name=f"Cluster {n}", kind=ResourceKind.GPU_CLUSTER, capacity=D(8), jurisdiction="EU", rate=D(2)
        )

    def create_payload(self):
        return {"name": "Archive", "kind": "storage", "capacity": "500.00", "jurisdiction": "EU"}

    def update_payload(self):
        return {"description": "Cold storage for model checkpoints"}


class CreditPoolAPITests(APIResourceChecks, CreditsTestCase):
    url = "/api/credit-pools/"
    allowed_reader = "staff"
    refused_writer = "staff"
    allowed_writer = "private_chair"

    def make_object(self, n):
        start = datetime.date(2027, 1, 1)
        return pools.create_pool(
            self.admin,
            committee=self.committee,
            name=f"Pool {n}",
            period_start=start,
            period_end=start + datetime.timedelta(days=90),
            total=D(1000 * n),
        )

    def create_payload(self):
        return {
            "committee": self.committee.pk,
            "name": "Spring 2027",
            "period_start": "2027-03-01",
            "period_end": "2027-05-31",
            "total": "25000.0000",
        }

    def update_payload(self):
        return {"name": "Spring 2027 (extended)"}


class CreditAccountAPITests(APIResourceChecks, CreditsTestCase):
    url = "/api/credit-accounts/"
    allowed_reader = "auditor"
    read_only = True

    def make_object(self, n):
        return pools.open_account(make_charter(self.body, f"Charter {n}", lead=self.orgs.northwind))


class LedgerTransactionAPITests(APIResourceChecks, CreditsTestCase):
    url = "/api/credit-transactions/"
    allowed_reader = "auditor"
    read_only = True

    def make_object(self, n):
        pools.update_pool(self.admin, self.pool, total=self.pool.total + n)
        self.pool.refresh_from_db()
        return LedgerTransaction.objects.order_by("-pk").first()


class CreditRequestAPITests(APIResourceChecks, CreditsTestCase):
    url = "/api/credit-requests/"
    allowed_reader = "private_member"
    refused_writer = "outsider"
    allowed_writer = "staff"

    def setUp(self):
        # One request from the start, so "few rows" is one and not an empty page (which
        # skips the prefetch query and would make the comparison meaningless).
        self.request_credits(50)

    def make_object(self, n):
        return self.request_credits(100 + n)

    def create_payload(self):
        return {
            "charter": self.charter.pk,
            "resource": self.cpu.pk,
            "pool": self.pool.pk,
            "amount": "2500.0000",
            "justification": "Pre-processing the radar archive.",
        }

    def update_payload(self):
        return {"justification": "Pre-processing the radar and gauge archives."}
