"""End to end through the REST API: the committee's ballots approve the roadmap and decide its
re-baselining; nothing else does."""

from roadmap.choices import RebaselineStatus, RoadmapStatus
from tests.roadmap.support import RoadmapTestCase, days


class RoadmapBallotsThroughTheAPITests(RoadmapTestCase):
    def ballot(self, title: str, choices: dict[str, str]) -> dict:
        """The public co-chair puts the roadmap to a ballot, the members vote, the co-chairs close
        it (both ask when someone has not voted: closing early needs both sectors)."""
        chair = self.api(self.public_chair)
        created = chair.post(
            "/api/ballots/",
            {"committee": self.committee.pk, "title": title, "subject_type": "roadmap", "subject_id": self.roadmap.pk},
            format="json",
        )
        self.assertEqual(created.status_code, 201, created.json())
        self.assertEqual(created.json()["method"], "parity_majority", "roadmap ballots default to parity majority")
        ballot_id = created.json()["id"]
        self.assertEqual(chair.post(f"/api/ballots/{ballot_id}/open/").status_code, 200)
        for persona, choice in choices.items():
            response = self.api(getattr(self, persona)).post(
                f"/api/ballots/{ballot_id}/vote/", {"choice": choice}, format="json"
            )
            self.assertEqual(response.status_code, 200, response.json())
        closed = chair.post(f"/api/ballots/{ballot_id}/close/")
        self.assertEqual(closed.status_code, 200, closed.json())
        if closed.json()["status"] != "closed":
            closed = self.api(self.private_chair).post(f"/api/ballots/{ballot_id}/close/")
        return closed.json()

    everyone_yes = {"public_chair": "yes", "public_member": "yes", "private_chair": "yes", "private_member": "yes"}
    private_no = {"public_chair": "yes", "public_member": "yes", "private_chair": "no", "private_member": "no"}

    def test_a_passed_ballot_approves_the_roadmap_and_takes_its_first_baseline(self):
        self.assertEqual(self.api(self.public_member).get("/api/baselines/").json()["count"], 0)
        result = self.ballot("Approve the joint roadmap", self.everyone_yes)
        self.assertEqual(result["outcome"], "passed")
        roadmap = self.api(self.public_member).get(f"/api/roadmaps/{self.roadmap.pk}/").json()
        self.assertEqual(roadmap["status"], RoadmapStatus.APPROVED)
        self.assertEqual(roadmap["approval_ballot"], result["id"])
        self.assertEqual([b["name"] for b in roadmap["baselines"]], ["v1 approved"])

    def test_the_private_sector_alone_cannot_block_or_force_the_approval_it_deadlocks(self):
        result = self.ballot("Approve the joint roadmap", self.private_no)
        self.assertEqual(result["outcome"], "deadlocked")
        roadmap = self.api(self.public_member).get(f"/api/roadmaps/{self.roadmap.pk}/").json()
        self.assertEqual(roadmap["status"], RoadmapStatus.DRAFT)
        self.assertEqual(roadmap["baselines"], [])

    def test_rebaselining_is_refused_without_a_passed_ballot_and_adopted_with_one(self):
        self.ballot("Approve the joint roadmap", self.everyone_yes)
        pm = self.api(self.program_manager)
        pm.patch(f"/api/milestones/{self.pretraining.pk}/", {"forecast_date": days(170).isoformat()}, format="json")

        # No ballot, no new committed date: editing it directly is refused.
        refused = pm.patch(f"/api/milestones/{self.pretraining.pk}/", {"baseline_date": days(170).isoformat()})
        self.assertEqual(refused.status_code, 409)

        proposal = pm.post(
            "/api/rebaseline-requests/",
            {"roadmap": self.roadmap.pk, "name": "After the GPU delay", "reason": "The cluster came late."},
            format="json",
        ).json()
        # Not without a ballot: a chair cannot open one on the approved roadmap for nothing,
        # and a rejected ballot leaves the committed dates alone.
        rejected = self.ballot(
            "Re-baseline the roadmap", {p: "no" for p in ("public_chair", "public_member", "private_chair")}
        )
        self.assertEqual(rejected["outcome"], "rejected")
        self.assertEqual(
            self.api(self.public_member).get(f"/api/rebaseline-requests/{proposal['id']}/").json()["status"],
            RebaselineStatus.REJECTED,
        )
        self.assertEqual(self.api(self.public_member).get("/api/baselines/").json()["count"], 1)
        self.pretraining.refresh_from_db()
        self.assertEqual(self.pretraining.baseline_date, days(120))

        again = self.api(self.public_chair).post(
            "/api/ballots/",
            {
                "committee": self.committee.pk,
                "title": "Nothing",
                "subject_type": "roadmap",
                "subject_id": self.roadmap.pk,
            },
            format="json",
        )
        opened = self.api(self.public_chair).post(f"/api/ballots/{again.json()['id']}/open/")
        self.assertEqual(opened.status_code, 409)
        self.assertIn("propose a re-baselining first", opened.json()["detail"])

        pm.post(
            "/api/rebaseline-requests/",
            {"roadmap": self.roadmap.pk, "name": "After the GPU delay, take two", "reason": "Still late."},
            format="json",
        )
        passed = self.ballot("Re-baseline the roadmap", self.everyone_yes)
        self.assertEqual(passed["outcome"], "passed")
        baselines = self.api(self.public_member).get("/api/baselines/", {"roadmap": self.roadmap.pk}).json()
        self.assertEqual(
            sorted(b["name"] for b in baselines["results"]), ["After the GPU delay, take two", "v1 approved"]
        )
        milestone = self.api(self.public_member).get(f"/api/milestones/{self.pretraining.pk}/").json()
        self.assertEqual((milestone["baseline_date"], milestone["slippage_days"]), (days(170).isoformat(), 0))
