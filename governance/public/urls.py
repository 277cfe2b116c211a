"""/public/… (DESIGN §3, 2.8): anonymous, read-only."""

from django.urls import path

from governance.public.views import charters, credits, data, decisions, home, record, roadmap, usage

app_name = "public"

urlpatterns = [
    path("", home.home, name="home"),
    path("policy/", home.policy, name="policy"),
    path("decisions/", decisions.decision_list, name="decisions"),
    path("decisions/<int:pk>/", decisions.decision_detail, name="decision"),
    path("decisions/<int:pk>/event.json", record.decision_event, name="decision-event"),
    path("decisions.atom", data.decisions_feed, name="decisions-feed"),
    path("meetings/<int:pk>/minutes/", decisions.minutes, name="minutes"),
    path("meetings/<int:pk>/minutes.pdf", decisions.minutes_pdf, name="minutes-pdf"),
    path("charters/", charters.charter_list, name="charters"),
    path("charters/<int:pk>/", charters.charter_detail, name="charter"),
    path("credits/", credits.credits, name="credits"),
    path("usage/", usage.usage, name="usage"),
    path("roadmap/", roadmap.roadmap, name="roadmap"),
    path("record/", record.record, name="record"),
    path("receipts/<int:index>", record.receipt, name="receipt"),
    path("data/", data.data_index, name="data"),
    path("data/<slug:name>.csv", data.download_csv, name="data-csv"),
    path("data/<slug:name>.json", data.download_json, name="data-json"),
]
