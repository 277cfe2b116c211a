"""The published table of who may do what (DESIGN.md 2.7) is complete and true.

Complete: every public function of every app's services is either an act in the table or
named as a helper that is not one. True: every act the table says needs both sectors or a
ballot is tried by each person of the body alone, through the way a person reaches it, and
never has its effect.
"""

from __future__ import annotations

import contextlib
import datetime
import importlib
import inspect
import pkgutil
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from charters.choices import CharterStatus, DataClassification
from charters.models import Charter
from charters.services import lifecycle
from compute.choices import AWARDED_STATUSES, RefundStatus
from compute.models import CreditRefund, CreditRequest, LedgerReversal
from compute.services.credits import pools, refunds, requests, usage
from governance import services
from governance.choices import BallotStatus, MembershipChangeStatus, Role, SubjectType
from governance.models import Ballot, MembershipChange
from governance.powers import NOT_ACTS, POWERS, Needs
from tests.compute.credits import make_charter, make_world
from tests.governance.ballot_support import BallotTestCase

APPS = ("governance", "charters", "compute", "roadmap", "identity")
PERSONAS = (
    "admin",
    "public_chair",
    "private_chair",
    "public_member",
    "private_member",
    "secretary",
    "staff",
    "private_staff",
    "program_manager",
    "auditor",
    "outsider",
)


def service_functions() -> set[str]:
    """Every public function defined in the apps' services packages."""
    found = set()
    for app in APPS:
        package = importlib.import_module(f"{app}.services")
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{app}.services."):
            module = importlib.import_module(info.name)
            for name, member in inspect.getmembers(module, inspect.isfunction):
                if not name.startswith("_") and member.__module__ == module.__name__:
                    found.add(f"{module.__name__}.{name}")
    return found


class Rollback(Exception):
    pass


class PowersTableTests(BallotTestCase):
    def test_every_act_of_the_services_is_in_the_table(self):
        listed = {power.act for power in POWERS}
        self.assertEqual(sorted(service_functions() - listed - NOT_ACTS), [], "acts without an entry")
        self.assertEqual(sorted((listed | NOT_ACTS) - service_functions()), [], "entries without an act")

    def test_the_table_is_published_to_everyone(self):
        response = self.api().get("/api/powers/")
        self.assertEqual(response.status_code, 200)
        rows = {row["act"]: row for row in response.json()}
        self.assertEqual(rows["governance.services.ballots.close_ballot"]["needs"], Needs.BOTH_SECTORS)
        page = self.client.get("/powers/")
        self.assertContains(page, "Who may do what")
        self.assertContains(page, "Close a ballot before its closing time")

    # --- Acts that need both sectors or a ballot, tried by each person alone ----------------

    def attempt(self, act, *persona_names: str) -> bool:
        """Run `act(*people)` in a savepoint that is rolled back; return whether it had its
        effect (the act returns that), refusals included as no effect."""
        people = [getattr(self, name) for name in persona_names]
        try:
            with transaction.atomic():
                effect = act(*people)
                raise Rollback(effect)
        except Rollback as outcome:
            return bool(outcome.args[0])
        except Exception:  # noqa: BLE001 - a refusal of any kind is "no effect"
            return False

    def probes(self) -> dict:
        services.mark_constituted(self.admin, self.committee)

        def consent(*people) -> bool:
            change = services.propose_membership_change(
                self.secretary,
                committee=self.committee,
                kind="seat",
                user=self.staff,
                organization=self.orgs.council,
                role=Role.MEMBER,
            )
            for person in people:
                with contextlib.suppress(Exception):  # a refusal leaves the change pending
                    services.consent_to_membership_change(person, change)
            return MembershipChange.objects.get(pk=change.pk).status == MembershipChangeStatus.APPLIED

        def close_early(*people) -> bool:
            ballot = self.motion(closes_at=timezone.now() + datetime.timedelta(days=3))
            self.votes(ballot, public_chair="yes")
            for person in people:
                self.assertLess(self.api(person).post(f"/api/ballots/{ballot.pk}/close/").status_code, 500)
            return Ballot.objects.get(pk=ballot.pk).status == BallotStatus.CLOSED

        def decide_charter(outcome: str):
            def act(person) -> bool:
                charter = self.charter(self.orgs.council)
                response = self.api(person).post(f"/api/charters/{charter.pk}/{outcome}/", {"ballot": None})
                return response.status_code < 300

            return act

        def charter_step(name: str, start: str, end: str):
            def act(*people) -> bool:
                charter = make_charter(
                    self.body,
                    f"Probe {name}",
                    lead=self.orgs.council,
                    status=start,
                    data_classification=DataClassification.PUBLIC,
                )
                for person in people:
                    with contextlib.suppress(Exception):
                        lifecycle.TRANSITION_SERVICES[name](person, Charter.objects.get(pk=charter.pk), reason="Probe")
                return Charter.objects.get(pk=charter.pk).status == end

            return act

        def adopt_sop(person) -> bool:
            sop = services.create_sop(self.secretary, committee=self.committee, title="Records", body="Keep them.")
            version = sop.versions.get()
            services.adopt_sop_version(person, version, Ballot(subject_type=SubjectType.SOP, subject_id=version.pk))
            return True

        world = make_world(self.body)

        def sign(*people) -> bool:
            request = requests.create_request(
                self.staff,
                charter=world["charter"],
                resource=world["gpu"],
                pool=world["pool"],
                amount=Decimal("500"),
                justification="Training runs.",
                submit=True,
            )
            for person in people:
                with contextlib.suppress(Exception):
                    requests.sign_request(person, request)
            return CreditRequest.objects.get(pk=request.pk).status in AWARDED_STATUSES

        def refund(*people) -> bool:
            account = pools.open_account(world["charter"])
            requests.sign_request(
                self.public_chair,
                request := requests.create_request(
                    self.staff,
                    charter=world["charter"],
                    resource=world["gpu"],
                    pool=world["pool"],
                    amount=Decimal("500"),
                    justification="Training runs.",
                    submit=True,
                ),
            )
            requests.sign_request(self.private_chair, request)
            hour = timezone.now().replace(minute=0, second=0, microsecond=0) - datetime.timedelta(hours=3)
            debit = usage.post_usage(
                source="probe", resource=world["gpu"], charter=world["charter"], hour=hour, unit_hours=Decimal("10")
            )
            claim = refunds.request_refund(self.staff, account=account, debits=[debit], reason="Node failure")
            for person in people:
                with contextlib.suppress(Exception):
                    refunds.decide_refund(person, claim, approve=True)
            return CreditRefund.objects.get(pk=claim.pk).status == RefundStatus.APPROVED

        def reverse(*people) -> bool:
            hour = timezone.now().replace(minute=0, second=0, microsecond=0) - datetime.timedelta(hours=2)
            debit = usage.post_usage(
                source="probe", resource=world["gpu"], charter=world["charter"], hour=hour, unit_hours=Decimal("1")
            )
            proposal = refunds.propose_reversal(self.admin, debit, memo="Double count")
            for person in people:
                with contextlib.suppress(Exception):
                    refunds.decide_reversal(person, proposal, approve=True)
            return LedgerReversal.objects.get(pk=proposal.pk).status == RefundStatus.APPROVED

        return {
            "compute.services.credits.requests.sign_request": sign,
            "compute.services.credits.refunds.decide_reversal": reverse,
            "charters.services.lifecycle.suspend": charter_step(
                "suspend", CharterStatus.ACTIVE, CharterStatus.SUSPENDED
            ),
            "charters.services.lifecycle.resume": charter_step("resume", CharterStatus.SUSPENDED, CharterStatus.ACTIVE),
            "charters.services.lifecycle.terminate": charter_step(
                "terminate", CharterStatus.ACTIVE, CharterStatus.TERMINATED
            ),
            "compute.services.credits.refunds.decide_refund": refund,
            "governance.services.seats.consent_to_membership_change": consent,
            "governance.services.ballots.close_ballot": close_early,
            "charters.services.lifecycle.approve": decide_charter("approve"),
            "charters.services.lifecycle.reject": decide_charter("reject"),
            "governance.services.sops.adopt_sop_version": adopt_sop,
        }

    def test_no_person_alone_does_what_the_table_says_needs_both_sectors_or_a_ballot(self):
        probes = self.probes()
        both = [power.act for power in POWERS if power.needs == Needs.BOTH_SECTORS]
        self.assertEqual(sorted(set(both) - set(probes)), [], "acts needing both sectors without a probe")
        for act, probe in probes.items():
            for persona in PERSONAS:
                with self.subTest(act=act, persona=persona):
                    self.assertFalse(self.attempt(probe, persona), f"{persona} alone did {act}")
        # The probes can tell: the co-chairs of both sectors together do have the effect.
        for act in both:
            with self.subTest(act=act, together=True):
                self.assertTrue(self.attempt(probes[act], "public_chair", "private_chair"), f"{act} never happens")
