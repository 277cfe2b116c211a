"""The tally against an independent, straightforward reading of DESIGN.md 2.1.

The reference below counts person by person and compares shares by integer cross-multiplication
(no fractions, no decimals), so it shares no arithmetic with governance.tally.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from django.test import SimpleTestCase
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from governance import services
from governance.choices import Outcome, VotingMethod
from governance.models import Committee
from governance.tally import SectorCount, compute_tally
from tests.governance.ballot_support import BallotTestCase

STATES = ["absent", "recused", "yes", "no", "abstain"]


def reference_tally(people: dict[str, list[str]], method: str, quorum_percent: int) -> dict:
    """DESIGN.md 2.1 read literally, with whole numbers only.

    `people` maps each sector to one state per seated voting member: absent (did not vote),
    recused, yes, no or abstain.
    """
    rows = {}
    for sector, states in people.items():
        eligible = sum(1 for state in states if state != "recused")
        yes = states.count("yes")
        no = states.count("no")
        abstain = states.count("abstain")
        took_part = yes + no + abstain
        rows[sector] = {
            "eligible": eligible,
            "recused": states.count("recused"),
            "yes": yes,
            "no": no,
            "abstain": abstain,
            # took_part / eligible >= quorum_percent / 100
            "quorum_met": eligible > 0 and took_part * 100 >= quorum_percent * eligible,
            "sided": yes + no,
        }

    def over_half(row):
        return row["sided"] > 0 and 2 * row["yes"] > row["sided"]

    def two_thirds(row):
        return row["sided"] > 0 and 3 * row["yes"] >= 2 * row["sided"]

    # Parity support P = (sum of yes_s / sided_s) / n, with sided_s = 1 where nobody took a side
    # (the share is then 0). P > 1/2  <=>  2 * sum(yes_s * prod of the other denominators) > n * prod.
    denominators = [row["sided"] or 1 for row in rows.values()]
    product = 1
    for d in denominators:
        product *= d
    numerator = sum(row["yes"] * (product // (row["sided"] or 1)) for row in rows.values())
    parity_over_half = 2 * numerator > len(rows) * product

    bar = two_thirds if method == VotingMethod.DOUBLE_SUPERMAJORITY else over_half
    bars = [bar(row) for row in rows.values()]
    quorate = all(row["quorum_met"] for row in rows.values())
    if method == VotingMethod.PARITY_MAJORITY:
        passed = quorate and parity_over_half
    else:
        passed = quorate and all(bars)
    if not quorate:
        outcome = "no_quorum"
    elif passed:
        outcome = "passed"
    elif any(bars) and not all(bars):
        outcome = "deadlocked"
    else:
        outcome = "rejected"
    return {
        "rows": rows,
        "parity": Fraction(numerator, len(rows) * product),
        "quorum_met": quorate,
        "outcome": outcome,
    }


def counts_of(states: list[str]) -> SectorCount:
    return SectorCount(
        eligible=sum(1 for s in states if s != "recused"),
        recused=states.count("recused"),
        yes=states.count("yes"),
        no=states.count("no"),
        abstain=states.count("abstain"),
    )


electorates = st.dictionaries(
    keys=st.sampled_from(["public", "private", "academic"]),
    values=st.lists(st.sampled_from(STATES), max_size=12),
    min_size=1,
    max_size=3,
)
methods = st.sampled_from(VotingMethod.values)
quorums = st.integers(min_value=1, max_value=100)


class TallyPropertyTests(SimpleTestCase):
    @settings(max_examples=600, deadline=None)
    @given(people=electorates, method=methods, quorum_percent=quorums)
    def test_the_tally_agrees_with_a_literal_reading_of_the_rules(self, people, method, quorum_percent):
        tally = compute_tally(
            method, Decimal(quorum_percent) / 100, {sector: counts_of(states) for sector, states in people.items()}
        )
        expected = reference_tally(people, method, quorum_percent)
        self.assertEqual(tally["outcome"], expected["outcome"])
        self.assertEqual(tally["quorum_met"], expected["quorum_met"])
        self.assertEqual(tally["parity_support"], float(expected["parity"]))
        for sector, row in expected["rows"].items():
            published = tally["sectors"][sector]
            for key in ("eligible", "recused", "yes", "no", "abstain", "quorum_met"):
                self.assertEqual(published[key], row[key], key)
            self.assertEqual(published["support"], row["yes"] / row["sided"] if row["sided"] else 0.0)

    @settings(max_examples=300, deadline=None)
    @given(people=electorates, method=methods, quorum_percent=quorums)
    def test_every_sector_weighs_the_same_whatever_its_headcount(self, people, method, quorum_percent):
        # Doubling every person of one sector changes no share, so it changes no outcome.
        quorum = Decimal(quorum_percent) / 100
        counts = {sector: counts_of(states) for sector, states in people.items()}
        first = next(iter(people))
        doubled = {**counts, first: counts_of(people[first] * 2)}
        self.assertEqual(
            compute_tally(method, quorum, counts)["outcome"], compute_tally(method, quorum, doubled)["outcome"]
        )

    @settings(max_examples=300, deadline=None)
    @given(people=electorates, method=methods, quorum_percent=quorums)
    def test_the_published_numbers_are_fractions_between_zero_and_one(self, people, method, quorum_percent):
        tally = compute_tally(method, Decimal(quorum_percent) / 100, {s: counts_of(v) for s, v in people.items()})
        self.assertTrue(0 <= tally["parity_support"] <= 1)
        for row in tally["sectors"].values():
            self.assertTrue(0 <= row["support"] <= 1)
        self.assertIn(tally["outcome"], Outcome.values)


class TallyHeadlineTests(SimpleTestCase):
    """The cases the body asked about by name, on the pure tally."""

    def tally(self, method, quorum="0.5", **sectors):
        return compute_tally(method, Decimal(quorum), {name: SectorCount(**counts) for name, counts in sectors.items()})

    def test_a_small_sector_carries_half_the_weight(self):
        # Heads: 2 yes against 3 no. Sectors: the public one 1/4 in favour, the private one 1/1.
        tally = self.tally(
            VotingMethod.PARITY_MAJORITY,
            public={"eligible": 4, "yes": 1, "no": 3},
            private={"eligible": 1, "recused": 3, "yes": 1},
        )
        self.assertEqual(tally["parity_support"], 0.625)
        self.assertEqual(tally["outcome"], Outcome.PASSED)

    def test_a_two_two_split_is_no_majority(self):
        tally = self.tally(
            VotingMethod.PARITY_MAJORITY,
            public={"eligible": 2, "yes": 1, "no": 1},
            private={"eligible": 2, "yes": 1, "no": 1},
        )
        self.assertEqual(tally["parity_support"], 0.5)
        self.assertEqual(tally["outcome"], Outcome.REJECTED)

    def test_abstentions_count_to_quorum_but_not_to_support(self):
        tally = self.tally(
            VotingMethod.DOUBLE_MAJORITY,
            quorum="1",
            public={"eligible": 2, "yes": 1, "abstain": 1},
            private={"eligible": 2, "no": 1, "abstain": 1},
        )
        self.assertTrue(tally["quorum_met"])
        self.assertEqual(tally["sectors"]["public"]["support"], 1.0)
        self.assertEqual(tally["sectors"]["private"]["support"], 0.0)
        self.assertEqual(tally["outcome"], Outcome.DEADLOCKED)

    def test_a_sector_where_everyone_abstains_has_quorum_and_no_support(self):
        tally = self.tally(
            VotingMethod.PARITY_MAJORITY,
            public={"eligible": 2, "abstain": 2},
            private={"eligible": 2, "yes": 2},
        )
        self.assertEqual(tally["sectors"]["public"]["support"], 0.0)
        self.assertEqual(tally["parity_support"], 0.5)
        self.assertEqual(tally["outcome"], Outcome.DEADLOCKED)

    def test_double_supermajority_passes_at_exactly_two_thirds(self):
        tally = self.tally(
            VotingMethod.DOUBLE_SUPERMAJORITY,
            public={"eligible": 3, "yes": 2, "no": 1},
            private={"eligible": 3, "yes": 2, "no": 1},
        )
        self.assertEqual(tally["outcome"], Outcome.PASSED)

    def test_double_supermajority_fails_just_below_two_thirds(self):
        tally = self.tally(
            VotingMethod.DOUBLE_SUPERMAJORITY,
            public={"eligible": 5, "yes": 2, "no": 1},
            private={"eligible": 5, "yes": 3, "no": 2},
        )
        self.assertEqual(tally["outcome"], Outcome.DEADLOCKED)

    def test_quorum_is_met_at_exactly_the_quorum(self):
        tally = self.tally(
            VotingMethod.PARITY_MAJORITY,
            quorum="0.5",
            public={"eligible": 2, "yes": 1},
            private={"eligible": 4, "yes": 1, "no": 1},
        )
        self.assertTrue(tally["quorum_met"])
        self.assertEqual(tally["outcome"], Outcome.PASSED)

    def test_one_sector_below_quorum_is_no_quorum_whatever_the_votes(self):
        tally = self.tally(
            VotingMethod.PARITY_MAJORITY,
            quorum="0.6",
            public={"eligible": 2, "yes": 2},
            private={"eligible": 2, "yes": 1},
        )
        self.assertFalse(tally["sectors"]["private"]["quorum_met"])
        self.assertEqual(tally["outcome"], Outcome.NO_QUORUM)

    def test_a_private_majority_cannot_override_the_public_sector(self):
        tally = self.tally(
            VotingMethod.DOUBLE_MAJORITY,
            public={"eligible": 2, "no": 2},
            private={"eligible": 2, "yes": 2},
        )
        self.assertEqual(tally["outcome"], Outcome.DEADLOCKED)

    def test_the_tally_has_exactly_the_published_shape(self):
        tally = self.tally(VotingMethod.PARITY_MAJORITY, public={"eligible": 1}, private={"eligible": 1})
        self.assertEqual(set(tally), {"sectors", "parity_support", "quorum_met", "outcome"})
        self.assertEqual(
            set(tally["sectors"]["public"]),
            {"eligible", "recused", "yes", "no", "abstain", "support", "quorum_met"},
        )

    def test_plain_counts_are_accepted(self):
        tally = compute_tally(
            "double_majority", "0.5", {"public": {"eligible": 1, "yes": 1}, "private": {"eligible": 1, "yes": 1}}
        )
        self.assertEqual(tally["outcome"], Outcome.PASSED)

    def test_more_votes_than_voters_is_refused(self):
        with self.assertRaises(ValueError):
            SectorCount(eligible=1, yes=2)


class StoredTallyPropertyTests(HypothesisTestCase, BallotTestCase):
    """The same rules through the database: votes and recusals cast through the services."""

    @settings(max_examples=25, deadline=None)
    @given(
        states=st.fixed_dictionaries(
            {
                name: st.sampled_from(STATES)
                for name in ("public_chair", "public_member", "private_chair", "private_member")
            }
        ),
        method=methods,
        quorum_percent=quorums,
    )
    def test_the_stored_tally_agrees_with_the_literal_reading(self, states, method, quorum_percent):
        # Keep one voter per sector unrecused, or the ballot could not open.
        states["public_chair"] = "absent" if states["public_chair"] == "recused" else states["public_chair"]
        states["private_chair"] = "absent" if states["private_chair"] == "recused" else states["private_chair"]
        # Any quorum the strategy draws is at or above this committee's floor (DESIGN.md 2.7).
        Committee.objects.filter(pk=self.committee.pk).update(quorum=Decimal("0.01"))
        self.committee.refresh_from_db()
        ballot = self.motion(method=method, quorum=Decimal(quorum_percent) / 100)
        for persona, state in states.items():
            if state == "recused":
                services.declare_conflict(getattr(self, persona), ballot, "A board seat at a party.")
            elif state != "absent":
                services.cast_vote(getattr(self, persona), ballot, state)
        people = {
            "public": [states["public_chair"], states["public_member"]],
            "private": [states["private_chair"], states["private_member"]],
        }
        expected = reference_tally(people, method, quorum_percent)
        ballot.refresh_from_db()
        self.assertEqual(ballot.tally["outcome"], expected["outcome"])
        closed = self.close(ballot)
        self.assertEqual(closed.outcome, expected["outcome"])
        for sector, row in expected["rows"].items():
            self.assertEqual(closed.tally["sectors"][sector]["eligible"], row["eligible"])
            self.assertEqual(closed.tally["sectors"][sector]["recused"], row["recused"])
