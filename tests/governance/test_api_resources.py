"""Every governance API resource: who may read, who may write, and what a list costs."""

import base64
import datetime

from django.utils import timezone

from governance import services
from governance.choices import Role, Sector
from governance.models import AuditEvent, Committee, Membership
from tests.api_checks import APIResourceChecks
from tests.base import PASSWORD, PortalTestCase


class OrganizationAPITests(APIResourceChecks, PortalTestCase):
    url = "/api/organizations/"

    def make_object(self, n):
        return services.create_organization(self.admin, name=f"Observatory {n}", sector=Sector.PUBLIC)

    def create_payload(self):
        return {"name": "Digital Public Works", "sector": "public", "jurisdiction": "EU"}

    def update_payload(self):
        return {"jurisdiction": "DE"}

    def test_an_unknown_sector_is_a_400_naming_the_field(self):
        response = self.api(self.admin).post(self.url, {"name": "X", "sector": "military"}, format="json")
        self.assertEqual(response.status_code, 400)
        self.assertIn("sector", response.json()["errors"])
        self.assertIn("sector", response.json()["detail"])

    def test_a_duplicate_name_is_refused_with_the_constraint_message(self):
        response = self.api(self.admin).post(self.url, {"name": "Northwind AI", "sector": "private"}, format="json")
        self.assertEqual(response.status_code, 400)
        self.assertIn("already exists", response.json()["detail"])

    def test_the_schema_allows_the_blank_website_the_api_answers(self):
        # "" is no URI: the schema said format "uri" alone, and every organization without a
        # website broke it (found by tests/test_api_fuzz.py).
        created = self.api(self.admin).post(self.url, self.create_payload(), format="json").json()
        self.assertEqual(created["website"], "")
        self.client.force_login(self.admin)
        schema = self.client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
        for name in ("Organization", "OrganizationRequest"):
            website = schema["components"]["schemas"][name]["properties"]["website"]
            self.assertEqual(website["anyOf"], [{"format": "uri"}, {"maxLength": 0}])
            self.assertNotIn("format", website)


class CommitteeAPITests(APIResourceChecks, PortalTestCase):
    url = "/api/committees/"

    def make_object(self, n):
        return services.create_committee(self.admin, name=f"Working group {n}")

    def create_payload(self):
        return {"name": "Compute allocation committee", "quorum": "0.6"}

    def update_payload(self):
        return {"method_roadmap": "double_majority"}

    def test_a_co_chair_changes_their_own_committee_but_not_another(self):
        other = self.make_object(7)
        client = self.api(self.public_chair)
        response = client.patch(f"{self.url}{self.committee.pk}/", {"description": "The joint body."}, format="json")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["description"], "The joint body.")
        refused = client.patch(f"{self.url}{other.pk}/", {"description": "Ours now."}, format="json")
        self.assertEqual(refused.status_code, 403)

    def test_a_co_chair_alone_cannot_change_the_voting_rules(self):
        response = self.api(self.public_chair).patch(
            f"{self.url}{self.committee.pk}/", {"quorum": "0.6"}, format="json"
        )
        self.assertEqual(response.status_code, 403, response.content)
        self.committee.refresh_from_db()
        self.assertEqual(str(self.committee.quorum), "0.500")

    def test_a_quorum_above_one_is_refused(self):
        response = self.api(self.admin).patch(f"{self.url}{self.committee.pk}/", {"quorum": "1.5"}, format="json")
        self.assertEqual(response.status_code, 400)
        self.assertIn("quorum", response.json()["errors"])


class MembershipAPITests(APIResourceChecks, PortalTestCase):
    """Direct seat writes while the committee is being set up: administrators only (2.7)."""

    url = "/api/memberships/"
    refused_writer = "public_chair"
    allowed_writer = "admin"

    def make_object(self, n):
        user = services.create_user(self.admin, username=f"m{n}", password=PASSWORD, organization=self.orgs.council)
        return services.add_membership(
            self.admin,
            user=user,
            committee=self.committee,
            organization=self.orgs.council,
            role=Role.OBSERVER,
            term_start=self.term_start,
        )

    def create_payload(self):
        user = services.create_user(self.admin, username="newbie", password=PASSWORD, organization=self.orgs.helios)
        return {
            "user": user.pk,
            "committee": self.committee.pk,
            "organization": self.orgs.helios.pk,
            "role": "member",
            "voting": True,
            "term_start": str(timezone.localdate()),
        }

    def update_payload(self):
        return {"term_end": str(timezone.localdate() + datetime.timedelta(days=365))}

    def test_seating_a_member_gives_them_the_member_role_and_is_audited(self):
        payload = self.create_payload()
        response = self.api(self.admin).post(self.url, payload, format="json")
        self.assertEqual(response.status_code, 201, response.content)
        membership = Membership.objects.get(pk=response.json()["id"])
        self.assertEqual(response.json()["sector"], "private")
        self.assertTrue(membership.user.groups.filter(name="Committee members").exists())
        event = AuditEvent.objects.filter(verb="membership.created").last()
        self.assertEqual((event.actor, event.object_id), (self.admin, str(membership.pk)))

    def test_a_chair_cannot_seat_members_on_another_committee(self):
        other = Committee.objects.create(name="Other committee")
        payload = {**self.create_payload(), "committee": other.pk}
        response = self.api(self.public_chair).post(self.url, payload, format="json")
        self.assertEqual(response.status_code, 403)

    def test_making_a_member_co_chair_grants_the_management_permission(self):
        membership = self.public_member.memberships.get()
        services.update_membership(self.admin, membership, role=Role.CHAIR)
        carla = type(self.public_member).objects.get(pk=self.public_member.pk)  # fresh permission caches
        self.assertTrue(carla.has_perm("governance.manage_committee", self.committee))
        self.assertTrue(carla.groups.filter(name="Co-chairs").exists())
        services.update_membership(self.admin, membership, role=Role.MEMBER)
        carla = type(self.public_member).objects.get(pk=self.public_member.pk)
        self.assertFalse(carla.has_perm("governance.manage_committee", self.committee))
        self.assertTrue(AuditEvent.objects.filter(verb="permission.revoked").exists())

    def test_a_term_ending_before_it_starts_is_a_400(self):
        membership = self.public_member.memberships.get()
        response = self.api(self.admin).patch(
            f"{self.url}{membership.pk}/",
            {"term_end": str(self.term_start - datetime.timedelta(days=1))},
            format="json",
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("cannot end before it starts", response.json()["detail"])


class UserAPITests(APIResourceChecks, PortalTestCase):
    url = "/api/users/"
    allowed_reader = "auditor"

    def make_object(self, n):
        return services.create_user(self.admin, username=f"person{n}", password=PASSWORD)

    def create_payload(self):
        return {"username": "zoe", "password": PASSWORD, "email": "zoe@example.org", "first_name": "Zoe"}

    def update_payload(self):
        return {"last_name": "Quinn"}

    def test_a_weak_password_is_refused(self):
        response = self.api(self.admin).post(self.url, {"username": "weak", "password": "123"}, format="json")
        self.assertEqual(response.status_code, 400)
        self.assertIn("password", response.json()["errors"])

    def test_the_password_is_never_returned(self):
        response = self.api(self.admin).post(self.url, self.create_payload(), format="json")
        self.assertNotIn("password", response.json())

    def test_an_outsider_sees_only_themselves_and_people_who_hold_seats(self):
        lone = self.make_object(99)
        ids = [row["id"] for row in self.api(self.outsider).get(self.url).json()["results"]]
        self.assertIn(self.outsider.pk, ids)
        self.assertIn(self.public_chair.pk, ids)
        self.assertNotIn(lone.pk, ids)
        self.assertEqual(self.api(self.outsider).get(f"{self.url}{lone.pk}/").status_code, 404)

    def test_people_change_their_own_name_but_not_someone_elses(self):
        client = self.api(self.public_member)
        self.assertEqual(client.patch(f"{self.url}{self.public_member.pk}/", {"last_name": "M"}).status_code, 200)
        self.assertEqual(client.patch(f"{self.url}{self.private_member.pk}/", {"last_name": "M"}).status_code, 403)

    def test_people_cannot_move_themselves_to_another_organization(self):
        response = self.api(self.public_member).patch(
            f"{self.url}{self.public_member.pk}/", {"organization": self.orgs.northwind.pk}
        )
        self.assertEqual(response.status_code, 403)


class AuditEventAPITests(APIResourceChecks, PortalTestCase):
    url = "/api/audit-events/"
    allowed_reader = "auditor"
    read_only = True

    def make_object(self, n):
        services.create_organization(self.admin, name=f"Audited {n}", sector=Sector.PRIVATE)
        return AuditEvent.objects.order_by("-id").first()

    def test_a_reader_lists_and_reads_the_same_objects(self):
        obj = self.make_object(1)
        response = self.api(self.auditor).get(self.url, {"ordering": "-id"})
        self.assertEqual(response.json()["results"][0]["id"], obj.pk)
        self.assertEqual(
            self.api(self.auditor).get(f"{self.url}{obj.pk}/").json()["commitment"],
            base64.b64encode(bytes(obj.commitment)).decode(),
        )


class TokenTests(PortalTestCase):
    def test_a_token_is_issued_for_good_credentials_and_authenticates(self):
        response = self.api().post("/api/auth/token/", {"username": "carla", "password": PASSWORD}, format="json")
        self.assertEqual(response.status_code, 200)
        token = response.json()["token"]
        client = self.api()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        self.assertEqual(client.get("/api/committees/").status_code, 200)

    def test_bad_credentials_get_a_400_with_a_message(self):
        response = self.api().post("/api/auth/token/", {"username": "carla", "password": "nope"}, format="json")
        self.assertEqual(response.status_code, 400)
        self.assertIn("Unable to log in", response.json()["detail"])

    def test_a_malformed_body_is_a_400_not_a_500(self):
        response = self.api().post("/api/auth/token/", "{not json", content_type="application/json")
        self.assertEqual(response.status_code, 400)
        self.assertIn("detail", response.json())
