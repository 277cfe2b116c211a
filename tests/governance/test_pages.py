"""The governance pages: sign-in, home, organizations and committees with their balance."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance import services
from governance.choices import Role, Sector
from tests.base import PASSWORD, PortalTestCase


class PageTests(PortalTestCase):
    def test_pages_ask_anonymous_visitors_to_log_in(self):
        for url in ("/organizations/", f"/committees/{self.committee.pk}/", "/charters/"):
            response = self.client.get(url)
            self.assertEqual(response.status_code, 302, url)
            self.assertTrue(response["Location"].startswith("/login/"), url)
        # The home page shows them the public view instead, with the way to sign in.
        self.assertContains(self.client.get("/"), 'href="/login/"')

    def test_a_member_logs_in_and_sees_their_seat(self):
        response = self.client.post("/login/", {"username": "carla", "password": PASSWORD}, follow=True)
        self.assertContains(response, "Your seats")
        self.assertContains(response, "Member for National Research Council (public sector)")

    def test_a_wrong_password_is_announced_to_assistive_technology(self):
        response = self.client.post("/login/", {"username": "carla", "password": "wrong"})
        self.assertContains(response, 'role="alert"')
        self.assertContains(response, 'aria-invalid="true"')

    def test_every_page_has_a_skip_link_landmarks_and_labelled_navigation(self):
        self.client.force_login(self.public_member)
        for url in ("/", "/organizations/", "/committees/", f"/committees/{self.committee.pk}/"):
            response = self.client.get(url)
            self.assertContains(response, 'href="#main"', msg_prefix=url)
            self.assertContains(response, '<main id="main"', msg_prefix=url)
            self.assertContains(response, '<nav aria-label="Main">', msg_prefix=url)
            self.assertContains(response, '<html lang="en">', msg_prefix=url)

    def test_the_committee_page_shows_the_balance_of_each_sector(self):
        self.client.force_login(self.private_member)
        response = self.client.get(f"/committees/{self.committee.pk}/")
        self.assertContains(response, "Constituted")
        self.assertContains(response, "<strong>2</strong> voting seats, 1 co-chair", count=2)

    def test_an_unconstituted_committee_says_what_is_missing(self):
        user = services.create_user(self.admin, username="pat", password=PASSWORD, organization=self.orgs.council)
        services.add_membership(
            self.admin,
            user=user,
            committee=self.committee,
            organization=self.orgs.council,
            role=Role.MEMBER,
            term_start=self.term_start,
        )
        self.client.force_login(self.private_member)
        response = self.client.get(f"/committees/{self.committee.pk}/")
        self.assertContains(response, "The private sector is short of 1 voting seat")

    def test_organizations_are_listed_by_sector(self):
        self.client.force_login(self.outsider)
        response = self.client.get("/organizations/")
        self.assertContains(response, "Public sector (2)")
        self.assertContains(response, "Private sector (2)")

    def test_an_unknown_page_is_a_404(self):
        self.client.force_login(self.outsider)
        self.assertEqual(self.client.get("/committees/999999/").status_code, 404)

    def test_the_committee_page_costs_the_same_queries_with_more_members(self):
        self.client.force_login(self.public_member)
        url = f"/committees/{self.committee.pk}/"
        self.client.get(url)
        with CaptureQueriesContext(connection) as few:
            self.client.get(url)
        for n in range(6):
            organization = services.create_organization(
                self.admin, name=f"Lab {n}", sector=Sector.PUBLIC if n % 2 else Sector.PRIVATE
            )
            user = services.create_user(self.admin, username=f"seat{n}", password=PASSWORD, organization=organization)
            services.add_membership(
                self.admin,
                user=user,
                committee=self.committee,
                organization=organization,
                role=Role.MEMBER,
                term_start=self.term_start,
            )
        with self.assertNumQueries(len(few)):
            self.client.get(url)

    def test_the_home_and_list_pages_cost_a_fixed_number_of_queries(self):
        self.client.force_login(self.public_member)
        for url in ("/", "/committees/", "/organizations/"):
            self.client.get(url)
            with CaptureQueriesContext(connection) as few:
                self.client.get(url)
            services.create_committee(self.admin, name=f"Committee for {url}")
            services.create_organization(self.admin, name=f"Org for {url}", sector=Sector.PUBLIC)
            with self.assertNumQueries(len(few)):
                self.client.get(url)

    def test_the_health_check_reports_the_database(self):
        response = self.client.get("/healthz/")
        self.assertEqual(response.json(), {"status": "ok", "database": "ok"})
