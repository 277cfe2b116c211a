"""Page and API route names never collide: the navigation leads to pages, not JSON."""

from django.urls import reverse

from tests.base import PortalTestCase


class URLNameTests(PortalTestCase):
    def test_the_governance_page_names_resolve_to_pages(self):
        self.assertEqual(reverse("committee-list"), "/committees/")
        self.assertEqual(reverse("committee-detail", args=[self.committee.pk]), f"/committees/{self.committee.pk}/")
        self.assertEqual(reverse("organization-list"), "/organizations/")

    def test_the_governance_menu_link_opens_a_page(self):
        self.client.force_login(self.public_member)
        response = self.client.get(reverse("committee-list"))
        self.assertEqual(response["Content-Type"], "text/html; charset=utf-8")
