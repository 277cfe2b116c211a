from django.urls import path

from roadmap.views import baselines, feeds, initiatives, milestones, reports, roadmaps

app_name = "roadmap"
urlpatterns = [
    path("", roadmaps.timeline_view, name="index"),
    path("versions/", roadmaps.roadmap_list, name="roadmap-list"),
    path("versions/new/", roadmaps.roadmap_create, name="roadmap-create"),
    path("versions/<int:pk>/", roadmaps.roadmap_detail, name="roadmap-detail"),
    path("versions/<int:pk>/edit/", roadmaps.roadmap_edit, name="roadmap-edit"),
    path("versions/<int:pk>/revise/", roadmaps.roadmap_revise, name="roadmap-revise"),
    path("versions/<int:pk>/ballot/", roadmaps.prepare_ballot, name="prepare-ballot"),
    path("versions/<int:pk>/timeline/", roadmaps.timeline_view, name="timeline"),
    path("versions/<int:pk>/print/", roadmaps.roadmap_print, name="roadmap-print"),
    path("versions/<int:pk>/milestones.csv", roadmaps.milestones_csv, name="milestones-csv"),
    path("versions/<int:pk>/rebaseline/", baselines.rebaseline_create, name="rebaseline-create"),
    path("rebaselines/<int:pk>/withdraw/", baselines.rebaseline_withdraw, name="rebaseline-withdraw"),
    path("baselines/compare/", baselines.baseline_compare, name="baseline-compare"),
    path("initiatives/new/", initiatives.initiative_create, name="initiative-create"),
    path("initiatives/<int:pk>/", initiatives.initiative_detail, name="initiative-detail"),
    path("initiatives/<int:pk>/edit/", initiatives.initiative_edit, name="initiative-edit"),
    path("initiatives/<int:pk>/milestones/new/", milestones.milestone_create, name="milestone-create"),
    path("initiatives/<int:pk>/reports/new/", reports.report_create, name="report-create"),
    path("milestones/<int:pk>/", milestones.milestone_detail, name="milestone-detail"),
    path("milestones/<int:pk>/edit/", milestones.milestone_edit, name="milestone-edit"),
    path("reports/<int:pk>/edit/", reports.report_edit, name="report-edit"),
    path("calendar/", feeds.calendar, name="calendar"),
    path("calendar/<str:token>.ics", feeds.calendar_feed, name="calendar-feed"),
]
