"""The roadmap API: who reads and who writes each resource, and what lists cost."""

import io
import tempfile

from django.core.management import call_command

from roadmap import planning
from roadmap.services import initiatives, milestones, reports, roadmaps
from tests.api_checks import APIResourceChecks
from tests.roadmap.support import RoadmapTestCase, days, run_ballot


class RoadmapResourceTests(APIResourceChecks, RoadmapTestCase):
    url = "/api/roadmaps/"
    allowed_writer = "program_manager"

    def make_object(self, n):
        return roadmaps.create_roadmap(
            self.program_manager,
            committee=self.committee,
            title=f"Roadmap draft {n}",
            starts_on=days(0),
            ends_on=days(365),
            initiatives=[self.model_initiative, self.health_initiative],
        )

    def create_payload(self):
        return {
            "committee": self.committee.pk,
            "title": "Joint roadmap 2028",
            "starts_on": days(400).isoformat(),
            "ends_on": days(800).isoformat(),
            "initiatives": [self.model_initiative.pk],
        }

    def update_payload(self):
        return {"title": "Joint roadmap 2028, revised"}

    def test_a_new_version_takes_the_next_number_and_starts_as_a_draft(self):
        response = self.api(self.program_manager).post(self.url, self.create_payload(), format="json")
        self.assertEqual((response.json()["version"], response.json()["status"]), (2, "draft"))

    def test_revise_drafts_the_next_version_from_an_approved_one(self):
        self.approve()
        response = self.api(self.program_manager).post(f"{self.url}{self.roadmap.pk}/revise/")
        self.assertEqual(response.status_code, 201)
        self.assertEqual(response.json()["version"], 2)
        self.assertEqual(
            sorted(response.json()["initiatives"]), sorted([self.model_initiative.pk, self.health_initiative.pk])
        )

    def test_status_cannot_be_set_through_the_api(self):
        response = self.api(self.program_manager).patch(
            f"{self.url}{self.roadmap.pk}/", {"status": "approved"}, format="json"
        )
        self.assertEqual(response.status_code, 200)
        self.roadmap.refresh_from_db()
        self.assertEqual(self.roadmap.status, "draft", "only a passed ballot approves")


class InitiativeResourceTests(APIResourceChecks, RoadmapTestCase):
    url = "/api/initiatives/"
    allowed_writer = "program_manager"

    def make_object(self, n):
        initiative = initiatives.create_initiative(
            self.program_manager,
            title=f"Initiative {n}",
            national_impact_score=3,
            starts_on=days(-30),
            themes=[self.health],
            sponsors=[self.orgs.council, self.orgs.helios],
            roadmap=self.roadmap,
        )
        milestones.create_milestone(
            self.program_manager,
            initiative=initiative,
            title=f"Milestone {n}",
            baseline_date=days(n),
            forecast_date=days(n + 5),
            depends_on=[self.data],
        )
        return initiative

    def create_payload(self):
        return {
            "title": "Compute sovereignty",
            "national_impact_score": 4,
            "priority": "high",
            "themes": ["foundation-model"],
            "sponsors": [self.orgs.ministry.pk, self.orgs.helios.pk],
            "starts_on": days(0).isoformat(),
            "owner": self.staff.pk,
        }

    def update_payload(self):
        return {"priority": "low"}

    def test_the_impact_score_is_from_1_to_5(self):
        payload = {**self.create_payload(), "national_impact_score": 9}
        response = self.api(self.program_manager).post(self.url, payload, format="json")
        self.assertEqual(response.status_code, 400)

    def test_initiatives_filter_like_the_timeline(self):
        initiatives.update_initiative(self.program_manager, self.health_initiative, sponsors=[self.orgs.council])
        client = self.api(self.public_member)

        def titles(**query):
            return [row["title"] for row in client.get(self.url, query).json()["results"]]

        self.assertEqual(titles(theme="health-data"), ["Federated health data"])
        self.assertEqual(titles(sector="private"), ["Sovereign foundation model"])
        self.assertEqual(titles(sector="public"), ["Federated health data", "Sovereign foundation model"])
        self.assertEqual(len(titles(roadmap=self.roadmap.pk)), 2)

    def test_an_initiative_shows_its_sponsor_sectors_and_latest_report(self):
        response = self.api(self.public_member).get(f"{self.url}{self.model_initiative.pk}/")
        self.assertEqual(response.json()["sponsor_sectors"], ["private", "public"])
        self.assertIsNone(response.json()["latest_report"])


class MilestoneResourceTests(APIResourceChecks, RoadmapTestCase):
    url = "/api/milestones/"
    allowed_writer = "program_manager"

    def make_object(self, n):
        return milestones.create_milestone(
            self.program_manager,
            initiative=self.health_initiative,
            title=f"Milestone {n}",
            forecast_date=days(n),
            depends_on=[self.consent, self.data],
        )

    def create_payload(self):
        return {
            "initiative": self.health_initiative.pk,
            "title": "Pilot in three hospitals",
            "forecast_date": days(100).isoformat(),
            "baseline_date": days(90).isoformat(),
            "depends_on": [self.consent.pk],
            "deliverables": "Pilot report\nPrivacy audit",
        }

    def update_payload(self):
        return {"percent_complete": 40, "status": "in_progress"}

    def test_milestones_filter_by_roadmap_and_status(self):
        milestones.update_milestone(self.program_manager, self.consent, status="at_risk")
        response = self.api(self.public_member).get(self.url, {"roadmap": self.roadmap.pk, "status": "at_risk"})
        self.assertEqual([row["id"] for row in response.json()["results"]], [self.consent.pk])

    def test_an_id_past_64_bits_in_a_to_many_filter_is_an_unknown_choice(self):
        # SQLite's driver raised OverflowError on it (a 500), found by tests/test_api_fuzz.py.
        response = self.api(self.public_member).get(self.url, {"initiative__roadmaps": [self.roadmap.pk, 2**70]})
        self.assertEqual(response.status_code, 400)
        self.assertIn(f"{2**70} is not one of the available choices", response.json()["detail"])
        response = self.api(self.public_member).get("/api/initiatives/", {"roadmaps": -(2**80)})
        self.assertEqual(response.status_code, 400)
        self.assertIn("roadmaps", response.json()["errors"])


class ProgressReportResourceTests(APIResourceChecks, RoadmapTestCase):
    url = "/api/progress-reports/"
    allowed_writer = "program_manager"

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.long_running = initiatives.create_initiative(
            cls.program_manager, title="Long-running", national_impact_score=2, starts_on=days(-3000)
        )
        reports.submit_report(
            cls.program_manager,
            initiative=cls.health_initiative,
            period_start=planning.period_containing(days(-92), "quarterly").start,
            rag="amber",
            summary="Consent framework drafted.",
        )

    def make_object(self, n):
        period = planning.period_containing(days(-92 * n), "quarterly")
        return reports.submit_report(
            self.program_manager, initiative=self.long_running, period_start=period.start, rag="green", summary="OK"
        )

    def create_payload(self):
        return {
            "initiative": self.model_initiative.pk,
            "period_start": planning.period_containing(days(0), "quarterly").start.isoformat(),
            "rag": "amber",
            "summary": "Pipeline late by two weeks.",
            "risks": "Vendor",
        }

    def update_payload(self):
        return {"rag": "red"}

    def test_the_owner_files_their_own_report_but_not_anothers(self):
        client = self.api(self.staff)  # Sam owns the foundation model initiative
        self.assertEqual(client.post(self.url, self.create_payload(), format="json").status_code, 201)
        other = {**self.create_payload(), "initiative": self.health_initiative.pk}
        response = client.post(self.url, other, format="json")
        self.assertEqual(response.status_code, 403)
        self.assertIn("initiative's owner", response.json()["detail"])

    def test_the_evidence_is_kept_beside_the_reported_rag_and_a_disagreement_flagged(self):
        milestones.update_milestone(self.program_manager, self.pretraining, forecast_date=days(200))
        response = self.api(self.staff).post(self.url, {**self.create_payload(), "rag": "green"}, format="json")
        body = response.json()
        self.assertEqual((body["rag"], body["evidence_rag"], body["disagrees"]), ("green", "red", True))
        self.assertIn("“Pretraining run” has slipped 80 days past its baseline.", body["evidence_reasons"])

    def test_one_report_per_initiative_and_period(self):
        client = self.api(self.program_manager)
        self.assertEqual(client.post(self.url, self.create_payload(), format="json").status_code, 201)
        response = client.post(self.url, self.create_payload(), format="json")
        self.assertEqual(response.status_code, 400)
        self.assertIn("already has a report for this period", response.json()["detail"])

    def test_a_period_starts_on_the_first_day_of_its_quarter(self):
        quarter = planning.period_containing(days(0), "quarterly")
        payload = {**self.create_payload(), "period_start": (quarter.start.replace(day=2)).isoformat()}
        response = self.api(self.program_manager).post(self.url, payload, format="json")
        self.assertEqual(response.status_code, 400)
        self.assertIn(f"starts on the first day of its period ({quarter.start.isoformat()}", response.json()["detail"])

    def test_a_period_that_has_not_begun_cannot_be_reported(self):
        next_quarter = planning.period_containing(days(0), "quarterly").end + planning.datetime.timedelta(days=1)
        payload = {**self.create_payload(), "period_start": next_quarter.isoformat()}
        response = self.api(self.program_manager).post(self.url, payload, format="json")
        self.assertEqual(response.status_code, 400)
        self.assertIn("has not begun yet", response.json()["detail"])

    def test_a_report_keeps_its_period(self):
        report = self.make_object(1)
        response = self.api(self.program_manager).patch(
            f"{self.url}{report.pk}/", {"period_start": self.create_payload()["period_start"]}, format="json"
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("stays with its period", response.json()["detail"])


class BaselineResourceTests(APIResourceChecks, RoadmapTestCase):
    url = "/api/baselines/"
    read_only = True

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        run_ballot(cls.body, cls.roadmap)

    def make_object(self, n):
        draft = roadmaps.create_roadmap(
            self.program_manager,
            committee=self.committee,
            title=f"Version {n}",
            starts_on=days(0),
            ends_on=days(365),
            initiatives=[self.model_initiative, self.health_initiative],
        )
        run_ballot(self.body, draft)
        return draft.baselines.get()

    def test_a_baseline_lists_every_milestone_with_its_dates(self):
        baseline = self.make_object(1)
        response = self.api(self.auditor).get(f"{self.url}{baseline.pk}/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(len(response.json()["entries"]), 5)
        self.assertEqual(response.json()["kind"], "approval")


class WhoReadsTheRoadmapTests(RoadmapTestCase):
    def test_everyone_in_the_body_reads_the_roadmap(self):
        for person in (self.public_chair, self.private_member, self.secretary, self.staff, self.auditor):
            with self.subTest(person=person.username):
                response = self.api(person).get("/api/milestones/")
                self.assertEqual(response.json()["count"], 5)

    def test_an_outsider_sees_nothing_and_cannot_open_a_milestone(self):
        client = self.api(self.outsider)
        for url in ("/api/roadmaps/", "/api/initiatives/", "/api/milestones/", "/api/progress-reports/"):
            with self.subTest(url=url):
                self.assertEqual(client.get(url).json()["count"], 0)
        self.assertEqual(client.get(f"/api/milestones/{self.data.pk}/").status_code, 404)

    def test_staff_read_but_do_not_plan(self):
        response = self.api(self.staff).patch(f"/api/milestones/{self.data.pk}/", {"percent_complete": 50})
        self.assertEqual(response.status_code, 403)
        self.assertEqual(response.json()["detail"], "You do not have permission to perform this action.")


class RoadmapSchemaTests(RoadmapTestCase):
    def test_the_schema_lists_the_roadmap_paths_and_generates_without_warnings(self):
        self.client.force_login(self.public_member)
        paths = self.client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
        for path in (
            "/api/roadmaps/",
            "/api/roadmaps/{id}/revise/",
            "/api/initiatives/",
            "/api/milestones/",
            "/api/progress-reports/",
            "/api/baselines/{id}/compare/",
            "/api/rebaseline-requests/{id}/withdraw/",
        ):
            self.assertIn(path, paths)
        with tempfile.NamedTemporaryFile(suffix=".yml") as schema:
            call_command("spectacular", "--fail-on-warn", "--file", schema.name, stderr=io.StringIO())

    def test_the_schema_describes_baselines_as_they_are_answered(self):
        self.client.force_login(self.public_member)
        schema = self.client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
        # A baseline taken at approval answers "request": null; the comparison is a plain list.
        self.assertTrue(schema["components"]["schemas"]["Baseline"]["properties"]["request"]["nullable"])
        compare = schema["paths"]["/api/baselines/{id}/compare/"]["get"]["responses"]["200"]
        self.assertEqual(compare["content"]["application/json"]["schema"]["type"], "array")
