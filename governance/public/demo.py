"""The demo's public history (DESIGN.md 2.8): a deadlock the body resolved by a second ballot,
and the monthly usage sums the public pages read. Runs after every app's own demo."""

from __future__ import annotations

from compute.services.credits.usage_months import refresh_usage_months
from governance import services
from governance.choices import SubjectType


def seed_demo(context: dict) -> None:
    committee = context["committee"]
    p = context["people"]
    ana, ben, carla, dev = p["ana.public"], p["ben.private"], p["carla.public"], p["dev.public"]
    erik, fatima, grace = p["erik.private"], p["fatima.private"], p["grace.secretary"]

    # A deadlock: the public sector for, the private sector against; then, after the co-chairs'
    # consultation, a narrower second ballot that both sectors pass.
    first = services.create_ballot(
        grace,
        committee=committee,
        title="Open unspent pool credits to joint public-private charters first",
        subject_type=SubjectType.MOTION,
        description="Credits a charter returns at the end of a pool's period go first to charters led jointly.",
    )
    first = services.open_ballot(ana, first)
    for person, choice in {ana: "yes", carla: "yes", dev: "yes", ben: "no", erik: "no", fatima: "abstain"}.items():
        services.cast_vote(person, first, choice)
    first = services.close_ballot(ben, first)
    second = services.start_second_ballot(
        ben,
        first,
        description="After the co-chairs' consultation: joint charters get first call on half of the returned credits.",
    )
    second = services.open_ballot(ben, second)
    services.declare_conflict(erik, second, "Helios Compute leads a joint charter that would benefit.")
    for person, choice in {ana: "yes", carla: "yes", dev: "no", ben: "yes", fatima: "yes"}.items():
        services.cast_vote(person, second, choice)
    services.close_ballot(ana, second)

    # The public usage page reads monthly sums; beat keeps them current, the demo starts them.
    refresh_usage_months()
