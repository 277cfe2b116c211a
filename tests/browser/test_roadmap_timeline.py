"""A member opens the roadmap timeline in a real browser, filters it, and opens a milestone."""

import re

import pytest

from roadmap.services import milestones
from tests.base import make_body
from tests.browser.login import log_in
from tests.roadmap.support import plan_roadmap, run_ballot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_member_opens_the_timeline_filters_it_and_opens_a_milestone(live_server, page):
    body = make_body()
    plan = plan_roadmap(body)
    run_ballot(body, plan.roadmap)
    milestones.update_milestone(body.program_manager, plan.consent, status="blocked", status_note="Ethics board")
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    log_in(page, live_server.url, "carla")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Roadmap").click()
    page.wait_for_url(f"{live_server.url}/roadmap/")
    assert page.get_by_role("heading", name=re.compile("Joint R&D roadmap 2026–2027")).is_visible()
    # plotly drew the Gantt from the server's figure: bars, markers and the today line.
    page.locator("#roadmap-gantt[data-drawn='true']").wait_for()
    assert page.locator("#roadmap-gantt .main-svg").count() > 0
    assert page.locator("#roadmap-gantt .barlayer .point").count() == 10  # baseline and forecast bars
    assert page.get_by_text("5 milestones in 2 initiatives.").is_visible()

    # Filtering by status swaps the results in place (htmx) and keeps the address shareable.
    page.get_by_label("Milestone status").select_option("blocked")
    page.get_by_text("1 milestone in 2 initiatives match the filters.").wait_for()
    assert "status=blocked" in page.url
    page.locator("#roadmap-gantt[data-drawn='true']").wait_for()
    table = page.get_by_role("table", name=re.compile("Milestones matching the filters"))
    assert table.get_by_role("link", name="Consent framework").is_visible()
    assert table.get_by_role("link", name="Pretraining run").count() == 0

    table.get_by_role("link", name="Consent framework").click()
    page.wait_for_url(re.compile(r"/roadmap/milestones/\d+/$"))
    assert page.get_by_role("heading", name="Consent framework", level=1).is_visible()
    assert page.get_by_text("Blocked, 0 % complete — Ethics board").is_visible()
    assert errors == [], errors


def test_selecting_a_marker_opens_its_milestone(live_server, page):
    body = make_body()
    plan = plan_roadmap(body)
    log_in(page, live_server.url, "erik")
    page.goto(f"{live_server.url}/roadmap/?theme=health-data")
    page.locator("#roadmap-gantt[data-drawn='true']").wait_for()
    # The "Planned" markers trace: click the first point plotly drew for it.
    marker = page.locator("#roadmap-gantt .scatterlayer .trace .points path").last
    marker.click(force=True)
    page.wait_for_url(re.compile(r"/roadmap/milestones/\d+/$"))
    assert page.get_by_role("heading", level=1).inner_text() in {plan.consent.title, plan.federation.title}


def test_on_a_phone_the_rows_are_labelled_by_their_milestone_within_the_screen(live_server, page):
    body = make_body()
    plan_roadmap(body)
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server.url, "carla")
    page.goto(f"{live_server.url}/roadmap/")
    page.locator("#roadmap-gantt[data-drawn='true']").wait_for()
    labels = page.locator("#roadmap-gantt .yaxislayer-above .ytick text")
    texts = labels.evaluate_all("nodes => nodes.map(node => node.textContent)")
    assert "Consent framework" in texts, texts
    assert not any(" · " in text for text in texts), texts  # the initiative is left to the table
    # Every label lies inside the chart, none cut at the screen's left edge.
    boxes = [labels.nth(n).bounding_box() for n in range(labels.count())]
    assert min(box["x"] for box in boxes) >= 0, boxes
    # At desktop width the label names the initiative too.
    page.set_viewport_size({"width": 1366, "height": 900})
    page.locator("#roadmap-gantt .yaxislayer-above .ytick text", has_text=" · ").first.wait_for()
