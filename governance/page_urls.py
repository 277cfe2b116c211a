from django.urls import path

from governance import views

urlpatterns = [
    path("organizations/", views.organization_list, name="organization-list"),
    path("organizations/<int:pk>/", views.organization_detail, name="organization-detail"),
    path("committees/", views.committee_list, name="committee-list"),
    path("committees/<int:pk>/", views.committee_detail, name="committee-detail"),
]

# Ballot pages live under their own namespace: the API router already uses the names
# "ballot-list", "ballot-detail", "ballot-vote"… for /api/ballots/.
ballot_patterns = [
    path("", views.ballot_list, name="list"),
    path("new/", views.ballot_create, name="create"),
    path("<int:pk>/", views.ballot_detail, name="detail"),
    path("<int:pk>/tally/", views.ballot_tally, name="tally"),
    path("<int:pk>/vote/", views.ballot_vote, name="vote"),
    path("<int:pk>/recuse/", views.ballot_recuse, name="recuse"),
    path("<int:pk>/open/", views.ballot_open, name="open"),
    path("<int:pk>/close/", views.ballot_close, name="close"),
    path("<int:pk>/second/", views.ballot_second, name="second"),
]

meeting_patterns = [
    path("", views.meeting_list, name="list"),
    path("new/", views.meeting_create, name="create"),
    path("<int:pk>/", views.meeting_detail, name="detail"),
    path("<int:pk>/status/", views.meeting_status, name="status"),
    path("<int:pk>/agenda/", views.meeting_agenda, name="agenda"),
    path("<int:pk>/attendance/", views.meeting_attendance, name="attendance"),
    path("<int:pk>/minutes/draft/", views.meeting_minutes_draft, name="minutes-draft"),
    path("<int:pk>/minutes/approve/", views.meeting_minutes_approve, name="minutes-approve"),
    path("<int:pk>/minutes/", views.meeting_minutes, name="minutes"),
    path("<int:pk>/roll-call.csv", views.meeting_roll_call_csv, name="roll-call"),
]

sop_patterns = [
    path("", views.sop_list, name="list"),
    path("new/", views.sop_create, name="create"),
    path("<int:pk>/", views.sop_detail, name="detail"),
    path("<int:pk>/version/", views.sop_version, name="version"),
    path("<int:pk>/ballot/", views.sop_ballot, name="ballot"),
]
