"""The probe's value-level cases, as named regressions: each is a 4xx with a message and
leaves the state as it was."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from governance import services, values
from governance.exports import csv_text, safe_cell
from governance.models import Ballot, Organization
from roadmap import exports
from roadmap.models import Milestone, ProgressReport
from tests.governance import test_meetings
from tests.governance.ballot_support import BallotTestCase
from tests.roadmap.support import RoadmapTestCase, days


class IdTests(RoadmapTestCase):
    def test_a_superscript_two_in_a_filter_is_bad_input(self):
        # "²".isdigit() is True; int("²") is a ValueError.
        for query in ({"initiative": "²"}, {"roadmap": "²"}, {"initiative__roadmaps": "²"}):
            response = self.api(self.public_member).get("/api/milestones/", query)
            assert response.status_code == 400, query
            assert response.json()["detail"]

    def test_ids_beyond_2_63_in_filters_are_bad_input(self):
        for value in (2**63, 2**70, "9" * 24, "-1", "0", "1e30", "\u0661"):
            for query in ({"initiative": value}, {"roadmap": value}, {"initiative__roadmaps": [value]}):
                response = self.api(self.public_member).get("/api/milestones/", query)
                assert response.status_code == 400, (query, response.content)

    def test_a_good_id_still_filters(self):
        response = self.api(self.public_member).get("/api/milestones/", {"initiative": self.health_initiative.pk})
        assert response.status_code == 200
        assert {row["id"] for row in response.json()["results"]} == {self.consent.pk, self.federation.pk}

    def test_too_many_ids_in_one_filter_are_refused(self):
        response = self.api(self.public_member).get("/api/milestones/", {"initiative__roadmaps": list(range(1, 1100))})
        assert response.status_code == 400
        assert "at most" in response.json()["detail"]

    def test_a_page_given_a_superscript_id_finds_nothing_instead_of_failing(self):
        self.client.force_login(self.program_manager)
        assert self.client.get("/roadmap/initiatives/new/", {"roadmap": "²"}).status_code == 200
        assert self.client.get("/roadmap/baselines/compare/", {"a": "²"}).status_code == 404

    def test_a_form_multi_select_refuses_ids_past_64_bits(self):
        self.client.force_login(self.program_manager)
        before = Milestone.objects.count()
        response = self.client.post(
            f"/roadmap/initiatives/{self.health_initiative.pk}/milestones/new/",
            {"title": "Pilot", "forecast_date": days(100).isoformat(), "depends_on": [str(2**70), "²"]},
        )
        assert response.status_code in (200, 400)
        assert Milestone.objects.count() == before

    def test_parse_id_takes_ascii_digits_in_range_only(self):
        assert values.parse_id("42") == 42
        assert values.parse_id(7) == 7
        for bad in ("²", "\u0661", " 1", "1_000", "+1", "0", str(2**63), True, None, "1.0"):
            with pytest.raises(ValidationError):
                values.parse_id(bad)


class TextTests(RoadmapTestCase):
    def test_a_lone_surrogate_in_a_choice_is_bad_input(self):
        body = '{"status": "\\ud800"}'
        response = self.api(self.program_manager).patch(
            f"/api/milestones/{self.consent.pk}/", body, content_type="application/json"
        )
        assert response.status_code == 400
        assert "surrogate" in response.json()["detail"]
        self.consent.refresh_from_db()
        assert self.consent.status == "planned"

    def test_a_nul_in_json_is_bad_input(self):
        for body in ('{"title": "a\\u0000b"}', '{"deliverables": "x\\u0000"}', '{"\\u0000": 1}'):
            response = self.api(self.program_manager).patch(
                f"/api/milestones/{self.consent.pk}/", body, content_type="application/json"
            )
            assert response.status_code == 400, body
        self.consent.refresh_from_db()
        assert self.consent.title == "Consent framework"

    def test_a_title_refuses_line_breaks(self):
        for title in ("Two\nlines", "Carriage\rreturn", "Tab\tbed", "Line\u2028separator"):
            response = self.api(self.program_manager).patch(
                f"/api/milestones/{self.consent.pk}/", {"title": title}, format="json"
            )
            assert response.status_code == 400, title
            assert "single line" in response.json()["detail"]
        self.consent.refresh_from_db()
        assert self.consent.title == "Consent framework"

    def test_multi_line_text_keeps_its_line_breaks(self):
        response = self.api(self.program_manager).patch(
            f"/api/milestones/{self.consent.pk}/", {"deliverables": "Report\nAudit"}, format="json"
        )
        assert response.status_code == 200

    def test_one_line_makes_a_header_of_any_stored_text(self):
        assert values.one_line("Adopt\r\nthe =plan\t ") == "Adopt the =plan"


class PostgresTextTests(RoadmapTestCase):
    @pytest.mark.postgres
    def test_a_nul_in_a_json_field_never_reaches_postgresql(self):
        count = Organization.objects.count()
        response = self.api(self.admin).post(
            "/api/organizations/",
            '{"name": "Null Org", "sector": "public", "jurisdiction": "EU\\u0000"}',
            content_type="application/json",
        )
        assert response.status_code == 400
        with pytest.raises(ValidationError):
            values.storable_json({"a": ["b", {"c": "\x00"}]})
        assert Organization.objects.count() == count


class DateTests(RoadmapTestCase):
    def test_a_milestone_dated_9999_12_31_is_refused(self):
        before = Milestone.objects.count()
        response = self.api(self.program_manager).post(
            "/api/milestones/",
            {"initiative": self.health_initiative.pk, "title": "Far away", "forecast_date": "9999-12-31"},
            format="json",
        )
        assert response.status_code == 400
        assert "between" in response.json()["detail"]
        assert Milestone.objects.count() == before

    def test_a_milestone_far_outside_its_roadmap_is_refused(self):
        response = self.api(self.program_manager).patch(
            f"/api/milestones/{self.consent.pk}/", {"forecast_date": "2090-01-01"}, format="json"
        )
        assert response.status_code == 400
        assert "roadmap's span" in response.json()["detail"]

    def test_a_forecast_before_2000_is_refused(self):
        response = self.api(self.program_manager).patch(
            f"/api/milestones/{self.consent.pk}/", {"forecast_date": "1900-01-01"}, format="json"
        )
        assert response.status_code == 400

    def test_the_ical_feed_survives_a_milestone_saved_before_the_rule(self):
        Milestone.objects.filter(pk=self.consent.pk).update(forecast_date=datetime.date(9999, 12, 31))
        body = exports.milestones_ical(
            Milestone.objects.select_related("initiative"), site_url="https://tgb.example", milestone_path=str
        )
        assert body.count(b"BEGIN:VEVENT") == Milestone.objects.count() - 1

    def test_a_progress_report_for_period_9999_12_31_is_refused(self):
        before = ProgressReport.objects.count()
        response = self.api(self.program_manager).post(
            "/api/progress-reports/",
            {"initiative": self.model_initiative.pk, "period_start": "9999-12-31", "rag": "green", "summary": "x"},
            format="json",
        )
        assert response.status_code == 400
        assert ProgressReport.objects.count() == before

    def test_the_roadmap_horizon_is_bounded_too(self):
        response = self.api(self.program_manager).patch(
            f"/api/roadmaps/{self.roadmap.pk}/", {"ends_on": "9999-12-31"}, format="json"
        )
        assert response.status_code == 400


class BallotDateTests(BallotTestCase):
    def test_a_ballot_closing_decades_away_is_refused(self):
        before = Ballot.objects.count()
        response = self.api(self.public_chair).post(
            "/api/ballots/",
            {
                "committee": self.committee.pk,
                "title": "Forever",
                "subject_type": "motion",
                "closes_at": (timezone.now() + datetime.timedelta(days=365 * 20)).isoformat(),
            },
            format="json",
        )
        assert response.status_code == 400
        assert "closes within" in response.json()["detail"]
        assert Ballot.objects.count() == before


class JurisdictionTests(BallotTestCase):
    def test_jurisdictions_come_from_a_fixed_list(self):
        response = self.api(self.admin).post(
            "/api/organizations/", {"name": "Atlantis Labs", "sector": "private", "jurisdiction": "Atlantis"}
        )
        assert response.status_code == 400
        assert "not a jurisdiction" in response.json()["detail"]
        assert not Organization.objects.filter(name="Atlantis Labs").exists()
        for good in ("EU", "DE", "gb", "UK", ""):
            services.create_organization(self.admin, name=f"Org {good}", sector="public", jurisdiction=good)

    def test_a_charters_allowed_jurisdictions_are_checked(self):
        from charters.models import Charter

        charter = Charter(allowed_jurisdictions=["EU", "Mars"])
        with pytest.raises(ValidationError) as caught:
            charter.clean()
        assert "Mars" in str(caught.value)


class RollCallCsvTests(BallotTestCase):
    held_meeting_with_a_decision = test_meetings.MeetingTests.held_meeting_with_a_decision

    def meeting(self, **fields):
        # Begun a minute ago, so it can be marked held at once.
        fields.setdefault("starts_at", timezone.now() - datetime.timedelta(minutes=1))
        return test_meetings.MeetingTests.meeting(self, **fields)

    def test_the_roll_call_csv_neutralises_a_formula_in_a_members_name(self):
        self.public_member.first_name = '=HYPERLINK("https://evil.example","Carla")'
        self.public_member.save()
        meeting, _ = self.held_meeting_with_a_decision()
        services.approve_minutes(self.public_chair, meeting)
        self.client.force_login(self.auditor)
        response = self.client.get(f"/meetings/{meeting.pk}/roll-call.csv")
        rows = list(csv.DictReader(io.StringIO(response.content.decode())))
        members = {row["member"] for row in rows}
        assert '\'=HYPERLINK("https://evil.example","Carla")' in members
        assert not any(cell.startswith(("=", "+", "@")) for row in rows for cell in row.values())


def test_every_formula_prefix_is_neutralised_and_numbers_are_kept():
    for prefix in ("=", "+", "-", "@", "\t", "\r"):
        assert safe_cell(prefix + "SUM(A1)").startswith("'")
    assert safe_cell("-3") == "-3"
    assert safe_cell("+1.5") == "+1.5"
    assert safe_cell("-inf").startswith("'")
    assert safe_cell(None) == ""
    assert csv_text(["a"], [["=1+1"]]).splitlines() == ["a", "'=1+1"]


class ApiIdTests(RoadmapTestCase):
    def test_related_ids_in_a_body_are_parsed_strictly(self):
        for bad in ("\u0661", "²", str(2**70), -1, True, 1.5, [1]):
            response = self.api(self.program_manager).patch(
                f"/api/milestones/{self.federation.pk}/", {"depends_on": [bad]}, format="json"
            )
            assert response.status_code == 400, (bad, response.content)
        assert set(self.federation.depends_on.all()) == {self.consent, self.data}

    def test_a_list_longer_than_the_cap_is_refused_before_any_lookup(self):
        response = self.api(self.program_manager).patch(
            f"/api/milestones/{self.federation.pk}/", {"depends_on": list(range(1, 5000))}, format="json"
        )
        assert response.status_code == 400
        assert "At most" in response.json()["detail"]
