"""The world of the credit tests: resources with rates, a pool, and charters around the body
of tests/base.py. Sam (staff, National Research Council) works on the council's charter."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from charters.choices import CharterStatus, DataClassification, IPFramework
from charters.models import Charter
from compute.choices import ResourceKind
from compute.services.credits import pools, refunds, requests, resources
from tests.base import PortalTestCase

D = Decimal


def make_charter(body, title, *, lead, status=CharterStatus.APPROVED, jurisdictions=("EU",), **extra) -> Charter:
    """A charter straight through the ORM: the charters app owns its lifecycle, and these tests
    only need one in a given state."""
    charter = Charter.objects.create(
        committee=body.committee,
        title=title,
        summary=f"{title}: a joint project.",
        lead_organization=lead,
        ip_framework=IPFramework.JOINT_POOL,
        data_classification=extra.pop("data_classification", DataClassification.INTERNAL),
        allowed_jurisdictions=list(jurisdictions),
        status=status,
        created_by=extra.pop("created_by", body.admin),
        **extra,
    )
    return charter


def make_world(body) -> dict:
    """Resources (EU TEE GPUs, US GPUs, EU CPUs), an open pool of 100,000 credits, and
    charters: the council's (EU, internal), Helios' restricted-data one, and a draft."""
    now = timezone.now()
    today = timezone.localdate()
    admin = body.admin
    world = {
        "gpu": resources.create_resource(
            admin,
            name="Aurora GPU cluster",
            kind=ResourceKind.GPU_CLUSTER,
            capacity=D("64"),
            jurisdiction="EU",
            tee_capable=True,
            rate=D("2.5"),
            rate_effective_from=now - datetime.timedelta(days=365),
        ),
        "us_gpu": resources.create_resource(
            admin,
            name="Frontier GPU cloud",
            kind=ResourceKind.GPU_CLUSTER,
            capacity=D("128"),
            jurisdiction="US",
            tee_capable=False,
            rate=D("2"),
            rate_effective_from=now - datetime.timedelta(days=365),
        ),
        "cpu": resources.create_resource(
            admin,
            name="Baltic CPU pool",
            kind=ResourceKind.CPU_POOL,
            capacity=D("2048"),
            jurisdiction="EU",
            tee_capable=False,
            rate=D("0.05"),
            rate_effective_from=now - datetime.timedelta(days=365),
        ),
        "pool": pools.create_pool(
            admin,
            committee=body.committee,
            name="2026 compute budget",
            period_start=today - datetime.timedelta(days=30),
            period_end=today + datetime.timedelta(days=150),
            total=D("100000"),
        ),
    }
    world["charter"] = make_charter(
        body, "Flood forecasting", lead=body.orgs.council, created_by=body.staff, data_classification="internal"
    )
    world["charter"].participating_organizations.add(body.orgs.helios)
    world["restricted"] = make_charter(
        body,
        "Health records model",
        lead=body.orgs.helios,
        created_by=body.private_staff,
        data_classification=DataClassification.RESTRICTED,
    )
    world["draft"] = make_charter(body, "Unfinished idea", lead=body.orgs.council, status=CharterStatus.DRAFT)
    return world


class CreditsTestCase(PortalTestCase):
    """PortalTestCase with the credit world in place (created once per class)."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.world = make_world(cls.body)
        for name, value in cls.world.items():
            setattr(cls, name, value)

    def request_credits(self, amount, *, by=None, charter=None, resource=None, submit=True, **extra):
        return requests.create_request(
            by or self.staff,
            charter=charter or self.charter,
            resource=resource or self.gpu,
            pool=extra.pop("pool", self.pool),
            amount=D(str(amount)),
            justification="Training runs for the flood model.",
            submit=submit,
            **extra,
        )

    def approve(self, request, amount=None, **extra):
        """Both co-chairs sign: Ana for the public sector, Ben for the private."""
        requests.sign_request(self.public_chair, request, amount=amount, **extra)
        return requests.sign_request(self.private_chair, request, amount=amount, **extra)

    def account(self, charter=None):
        return pools.open_account(charter or self.charter)

    def reverse(self, transaction, memo="Double-counted by the collector"):
        """An administrator proposes the reversal and both co-chairs approve it; the reversal."""
        proposal = refunds.propose_reversal(self.admin, transaction, memo=memo)
        refunds.decide_reversal(self.public_chair, proposal, approve=True)
        return refunds.decide_reversal(self.private_chair, proposal, approve=True).reversal

    def refresh(self, obj):
        obj.refresh_from_db()
        return obj
