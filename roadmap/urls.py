from django.urls import path

from roadmap import views

app_name = "roadmap"
urlpatterns = [
    path("", views.timeline_view, name="index"),
    path("versions/", views.roadmap_list, name="roadmap-list"),
    path("versions/new/", views.roadmap_create, name="roadmap-create"),
    path("versions/<int:pk>/", views.roadmap_detail, name="roadmap-detail"),
    path("versions/<int:pk>/edit/", views.roadmap_edit, name="roadmap-edit"),
    path("versions/<int:pk>/revise/", views.roadmap_revise, name="roadmap-revise"),
    path("versions/<int:pk>/ballot/", views.prepare_ballot, name="prepare-ballot"),
    path("versions/<int:pk>/timeline/", views.timeline_view, name="timeline"),
    path("versions/<int:pk>/print/", views.roadmap_print, name="roadmap-print"),
    path("versions/<int:pk>/milestones.csv", views.milestones_csv, name="milestones-csv"),
    path("versions/<int:pk>/rebaseline/", views.rebaseline_create, name="rebaseline-create"),
    path("rebaselines/<int:pk>/withdraw/", views.rebaseline_withdraw, name="rebaseline-withdraw"),
    path("baselines/compare/", views.baseline_compare, name="baseline-compare"),
    path("initiatives/new/", views.initiative_create, name="initiative-create"),
    path("initiatives/<int:pk>/", views.initiative_detail, name="initiative-detail"),
    path("initiatives/<int:pk>/edit/", views.initiative_edit, name="initiative-edit"),
    path("initiatives/<int:pk>/milestones/new/", views.milestone_create, name="milestone-create"),
    path("initiatives/<int:pk>/reports/new/", views.report_create, name="report-create"),
    path("milestones/<int:pk>/", views.milestone_detail, name="milestone-detail"),
    path("milestones/<int:pk>/edit/", views.milestone_edit, name="milestone-edit"),
    path("reports/<int:pk>/edit/", views.report_edit, name="report-edit"),
    path("calendar/", views.calendar, name="calendar"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar-feed"),
]
