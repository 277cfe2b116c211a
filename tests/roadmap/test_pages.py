"""The roadmap pages: timeline, versions, initiative, milestone edit, comparison, report form,
print, and the home panel."""

from datetime import timedelta

import plotly.graph_objects
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from governance.models import Ballot
from roadmap.models import Baseline, Milestone
from roadmap.services import baselines, initiatives, milestones, reports
from tests.roadmap.support import RoadmapTestCase, days


class TimelinePageTests(RoadmapTestCase):
    def test_a_member_sees_the_gantt_and_its_data_table(self):
        self.approve()
        milestones.update_milestone(self.program_manager, self.pretraining, forecast_date=days(150))
        self.client.force_login(self.public_member)
        response = self.client.get(reverse("roadmap:index"))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'id="roadmap-gantt"')
        self.assertContains(response, 'id="timeline-figure"')
        self.assertContains(response, reverse("roadmap:milestone-detail", args=[self.pretraining.pk]))
        self.assertContains(response, '<span class="warn">+30</span>', html=True)
        figure = response.context["figure"]
        plotly.graph_objects.Figure(figure)  # every property is one plotly knows (raises otherwise)
        names = [trace.get("name") for trace in figure["data"]]
        for expected in ("Baseline", "Forecast", "Dependency", "Planned"):
            self.assertIn(expected, names)
        self.assertEqual(figure["layout"]["shapes"][0]["x0"], days(0).isoformat(), "a line marks today")
        self.assertEqual(len(figure["layout"]["yaxis"]["tickvals"]), 5)

    def test_the_timeline_filters_by_status_theme_and_sector(self):
        milestones.update_milestone(self.program_manager, self.consent, status="blocked")
        initiatives.update_initiative(self.program_manager, self.health_initiative, sponsors=[self.orgs.council])
        self.client.force_login(self.private_member)
        url = reverse("roadmap:index")
        by_status = self.client.get(url, {"status": "blocked"})
        self.assertEqual(
            [m.title for i in by_status.context["initiatives"] for m in i.shown_milestones], ["Consent framework"]
        )
        by_theme = self.client.get(url, {"theme": "foundation-model"})
        self.assertEqual([i.title for i in by_theme.context["initiatives"]], ["Sovereign foundation model"])
        by_sector = self.client.get(url, {"sector": "private"})
        self.assertEqual([i.title for i in by_sector.context["initiatives"]], ["Sovereign foundation model"])
        by_public = self.client.get(url, {"sector": "public"})
        self.assertEqual(len(by_public.context["initiatives"]), 2)

    def test_htmx_gets_only_the_results(self):
        self.client.force_login(self.public_member)
        response = self.client.get(reverse("roadmap:index"), {"status": "planned"}, headers={"HX-Request": "true"})
        self.assertTemplateUsed(response, "roadmap/_timeline_results.html")
        self.assertTemplateNotUsed(response, "base.html")

    def test_the_timeline_costs_the_same_queries_for_few_and_many_milestones(self):
        self.client.force_login(self.public_member)
        url = reverse("roadmap:index")
        self.client.get(url)
        with CaptureQueriesContext(connection) as few:
            self.assertEqual(self.client.get(url).status_code, 200)
        for n in range(25):
            self.milestone(
                self.health_initiative if n % 2 else self.model_initiative,
                f"Extra milestone {n}",
                40 + n,
                depends_on=[self.data, self.consent],
            )
        with self.assertNumQueries(len(few)):
            response = self.client.get(url)
        self.assertEqual(response.context["milestone_count"], 30)

    def test_the_timeline_shows_ten_initiatives_a_page_and_keeps_the_filters_in_its_links(self):
        for n in range(10):
            initiative = initiatives.create_initiative(
                self.program_manager,
                roadmap=self.roadmap,
                title=f"Pilot {n}",
                national_impact_score=2,
                starts_on=days(0),
                owner=self.staff,
            )
            self.milestone(initiative, f"Pilot {n} ready", 30 + n)
        self.client.force_login(self.public_member)
        url = reverse("roadmap:index")
        first = self.client.get(url, {"status": "planned"})
        self.assertEqual(len(first.context["initiatives"]), 10)
        self.assertContains(
            first, "15 milestones in 12 initiatives match the filters. Shown here: initiatives 1 to 10, with"
        )
        self.assertContains(first, 'href="?status=planned&amp;page=2" rel="next"')
        second = self.client.get(url, {"status": "planned", "page": 2})
        self.assertEqual([i.title for i in second.context["initiatives"]], ["Pilot 9", "Sovereign foundation model"])
        self.assertEqual(len(second.context["figure"]["layout"]["yaxis"]["tickvals"]), 4)
        self.assertContains(second, 'href="?status=planned&amp;page=1" rel="prev"')

    def test_a_person_outside_the_body_is_refused(self):
        self.client.force_login(self.outsider)
        response = self.client.get(reverse("roadmap:index"))
        self.assertEqual(response.status_code, 403)
        self.assertContains(response, "shared with the people of the body", status_code=403)

    def test_an_anonymous_visitor_is_sent_to_log_in(self):
        response = self.client.get(reverse("roadmap:index"))
        self.assertEqual(response.status_code, 302)
        self.assertIn(reverse("login"), response["Location"])


class VersionAndBaselinePageTests(RoadmapTestCase):
    def test_a_draft_version_page_explains_it_awaits_a_ballot(self):
        self.client.force_login(self.public_chair)
        response = self.client.get(reverse("roadmap:roadmap-detail", args=[self.roadmap.pk]))
        self.assertContains(response, "This version is a draft")
        self.assertNotContains(response, "Edit this draft", msg_prefix="members do not edit")

    def test_a_program_manager_edits_a_draft_and_adds_an_initiative(self):
        self.client.force_login(self.program_manager)
        response = self.client.post(
            reverse("roadmap:roadmap-edit", args=[self.roadmap.pk]),
            {
                "title": "Joint R&D roadmap, draft 2",
                "summary": "",
                "starts_on": days(-120).isoformat(),
                "ends_on": days(600).isoformat(),
                "initiatives": [self.model_initiative.pk],
            },
        )
        self.assertRedirects(response, reverse("roadmap:roadmap-detail", args=[self.roadmap.pk]))
        self.roadmap.refresh_from_db()
        self.assertEqual(list(self.roadmap.initiatives.all()), [self.model_initiative])

    def test_the_horizon_must_end_after_it_starts(self):
        self.client.force_login(self.program_manager)
        response = self.client.post(
            reverse("roadmap:roadmap-edit", args=[self.roadmap.pk]),
            {"title": "x", "starts_on": days(10).isoformat(), "ends_on": days(1).isoformat()},
        )
        self.assertContains(response, "A roadmap ends after it starts.")

    def test_baselines_compare_in_a_table_with_the_change_in_words(self):
        roadmap = self.approve()
        milestones.update_milestone(self.program_manager, self.release, forecast_date=days(260))
        baselines.propose_rebaseline(self.program_manager, roadmap, name="Release replan", reason="Eval found gaps")
        self.decide(roadmap)
        first, second = Baseline.objects.order_by("created_at", "pk")
        self.client.force_login(self.private_member)
        response = self.client.get(reverse("roadmap:baseline-compare"), {"a": first.pk, "b": second.pk})
        self.assertContains(response, "1 later, 0 earlier, 4 unchanged.")
        self.assertContains(response, '<td class="num">+60</td>', html=True)
        page = self.client.get(reverse("roadmap:roadmap-detail", args=[roadmap.pk]))
        self.assertContains(page, "Release replan")
        self.assertContains(page, "No re-baselining is pending.")

    def test_a_program_manager_proposes_a_rebaselining_from_the_page(self):
        roadmap = self.approve()
        self.client.force_login(self.program_manager)
        url = reverse("roadmap:rebaseline-create", args=[roadmap.pk])
        form = self.client.get(url)
        self.assertContains(form, f'name="date_{self.release.pk}"')
        data = {"name": "Move the release", "reason": "Evaluation needs a month more."}
        data.update({f"date_{m.pk}": m.forecast_date.isoformat() for m in roadmap.milestones()})
        data[f"date_{self.release.pk}"] = days(230).isoformat()
        response = self.client.post(url, data)
        self.assertRedirects(response, reverse("roadmap:roadmap-detail", args=[roadmap.pk]))
        page = self.client.get(reverse("roadmap:roadmap-detail", args=[roadmap.pk]))
        self.assertContains(page, "Pending: “Move the release”")

    def test_a_co_chair_prepares_the_approval_ballot_from_the_version_page(self):
        self.client.force_login(self.public_chair)
        page = self.client.get(reverse("roadmap:roadmap-detail", args=[self.roadmap.pk]))
        self.assertContains(page, "Prepare the approval ballot")
        response = self.client.post(reverse("roadmap:prepare-ballot", args=[self.roadmap.pk]))
        ballot = Ballot.objects.get(subject_type="roadmap", subject_id=self.roadmap.pk)
        self.assertRedirects(response, reverse("ballots:detail", args=[ballot.pk]))
        self.assertEqual((ballot.status, ballot.method), ("draft", "parity_majority"))
        self.assertEqual(ballot.subject_title, "Roadmap v1: Joint R&D roadmap 2026–2027")
        page = self.client.get(reverse("roadmap:roadmap-detail", args=[self.roadmap.pk]))
        self.assertContains(page, "Approve roadmap v1: Joint R&amp;D roadmap 2026–2027</a> — draft")

    def test_a_member_cannot_prepare_a_ballot(self):
        self.client.force_login(self.public_member)
        self.assertNotContains(
            self.client.get(reverse("roadmap:roadmap-detail", args=[self.roadmap.pk])), "Prepare the approval ballot"
        )
        response = self.client.post(reverse("roadmap:prepare-ballot", args=[self.roadmap.pk]), follow=True)
        self.assertContains(response, "prepare ballots")
        self.assertFalse(Ballot.objects.exists())

    def test_the_printable_roadmap_lists_every_initiative_and_milestone(self):
        self.client.force_login(self.auditor)
        response = self.client.get(reverse("roadmap:roadmap-print", args=[self.roadmap.pk]))
        self.assertEqual(response.status_code, 200)
        for title in ("Sovereign foundation model", "Federated health data", "Open-weights release"):
            self.assertContains(response, title)


class InitiativeAndMilestonePageTests(RoadmapTestCase):
    def test_the_initiative_page_shows_milestones_evidence_reports_and_charters(self):
        milestones.update_milestone(self.program_manager, self.pretraining, forecast_date=days(200))
        reports.submit_report(
            self.staff,
            initiative=self.model_initiative,
            period_start=self.current_period(),
            rag="green",
            summary="Fine",
        )
        self.client.force_login(self.private_member)
        response = self.client.get(reverse("roadmap:initiative-detail", args=[self.model_initiative.pk]))
        self.assertContains(response, "Evidence-based RAG")
        self.assertContains(response, "“Pretraining run” has slipped 80 days past its baseline.")
        self.assertContains(response, "The report and the evidence disagree.")
        self.assertContains(response, "No charter linked.")

    def current_period(self):
        from roadmap import planning

        return planning.period_containing(days(0), "quarterly").start

    def test_the_milestone_form_shows_a_cycle_as_an_error(self):
        self.client.force_login(self.program_manager)
        url = reverse("roadmap:milestone-edit", args=[self.data.pk])
        response = self.client.post(
            url,
            {
                "title": self.data.title,
                "status": "planned",
                "percent_complete": 0,
                "baseline_date": days(30).isoformat(),
                "forecast_date": days(30).isoformat(),
                "depends_on": [self.release.pk],
            },
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "This dependency would create a cycle")

    def test_the_milestone_form_validates_dates_and_status(self):
        self.client.force_login(self.program_manager)
        response = self.client.post(
            reverse("roadmap:milestone-edit", args=[self.data.pk]),
            {
                "title": self.data.title,
                "status": "planned",
                "percent_complete": 20,
                "forecast_date": days(30).isoformat(),
                "baseline_date": days(30).isoformat(),
                "actual_date": days(-2).isoformat(),
            },
        )
        self.assertContains(response, "Only a done milestone has an actual date")

    def test_a_baselined_milestone_shows_its_committed_date_but_cannot_change_it_here(self):
        self.approve()
        self.client.force_login(self.program_manager)
        url = reverse("roadmap:milestone-edit", args=[self.data.pk])
        form = self.client.get(url)
        self.assertContains(form, "changes only by a re-baselining")
        response = self.client.post(
            url,
            {
                "title": self.data.title,
                "status": "in_progress",
                "percent_complete": 40,
                "baseline_date": days(90).isoformat(),
                "forecast_date": days(41).isoformat(),
            },
        )
        self.assertRedirects(response, reverse("roadmap:milestone-detail", args=[self.data.pk]))
        self.data.refresh_from_db()
        self.assertEqual((self.data.baseline_date, self.data.forecast_date), (days(30), days(41)))

    def test_members_read_milestones_but_do_not_edit_them(self):
        self.client.force_login(self.public_member)
        self.assertEqual(self.client.get(reverse("roadmap:milestone-detail", args=[self.data.pk])).status_code, 200)
        self.assertEqual(self.client.get(reverse("roadmap:milestone-edit", args=[self.data.pk])).status_code, 403)

    def test_the_owner_files_a_report_and_sees_the_evidence_beside_it(self):
        self.client.force_login(self.staff)
        url = reverse("roadmap:report-create", args=[self.model_initiative.pk])
        form = self.client.get(url)
        self.assertContains(form, "What the evidence says now")
        response = self.client.post(
            url,
            {
                "period_start": self.current_period().isoformat(),
                "rag": "amber",
                "summary": "Data pipeline on track.",
                "risks": "GPU delivery",
            },
        )
        self.assertRedirects(response, reverse("roadmap:initiative-detail", args=[self.model_initiative.pk]))
        report = self.model_initiative.reports.get()
        self.assertEqual((report.rag, report.evidence_rag, report.author), ("amber", "green", self.staff))

    def test_someone_who_neither_plans_nor_owns_cannot_file_a_report(self):
        self.client.force_login(self.private_staff)
        response = self.client.get(reverse("roadmap:report-create", args=[self.model_initiative.pk]))
        self.assertEqual(response.status_code, 403)


class HomePanelTests(RoadmapTestCase):
    def test_a_program_manager_sees_slipped_milestones_and_reports_due(self):
        self.approve()
        milestones.update_milestone(self.program_manager, self.pretraining, forecast_date=days(140))
        self.client.force_login(self.program_manager)
        response = self.client.get(reverse("home"))
        self.assertContains(response, "Slipped milestones")
        self.assertContains(response, "Pretraining run")
        self.assertContains(response, "20 days late")

    def test_the_panel_lists_the_five_worst_slips_worst_first_and_leaves_out_done_ones(self):
        self.approve()
        pm = self.program_manager
        audits = [self.milestone(self.health_initiative, f"Audit {n}", 300) for n in range(2)]
        slips = {self.data: 5, self.pretraining: 40, self.release: 10, self.consent: 25, audits[0]: 1, audits[1]: 2}
        for milestone, late in slips.items():
            milestones.update_milestone(pm, milestone, forecast_date=milestone.baseline_date + timedelta(days=late))
        # Done ten days after its baseline: it slipped, but it is no longer open.
        done_late = self.milestone(self.health_initiative, "Ethics sign-off", -10)
        milestones.update_milestone(pm, done_late, status="done", actual_date=days(0))
        self.assertEqual(Milestone.objects.get(pk=done_late.pk).slippage_days, 10)
        self.client.force_login(pm)
        slipped = self.client.get(reverse("home")).context["slipped"]
        self.assertEqual(
            [m.title for m in slipped],
            ["Pretraining run", "Consent framework", "Open-weights release", "Training data pipeline", "Audit 1"],
        )

    def test_a_member_with_no_roadmap_work_sees_no_roadmap_panel(self):
        self.client.force_login(self.public_member)
        response = self.client.get(reverse("home"))
        self.assertNotContains(response, 'id="roadmap-panel-heading"')
        self.assertNotContains(response, "Slipped milestones")

    def test_a_program_manager_sees_the_draft_version_to_put_to_a_ballot(self):
        self.client.force_login(self.program_manager)
        response = self.client.get(reverse("home"))
        self.assertContains(response, "Joint R&amp;D roadmap 2026–2027</a> — v1, draft.")

    def test_an_outsider_sees_no_roadmap_panel(self):
        self.client.force_login(self.outsider)
        self.assertNotContains(self.client.get(reverse("home")), 'id="roadmap-panel-heading"')
