from django.urls import path

from governance.views import ballots, meetings, people, sops

urlpatterns = [
    path("powers/", people.powers, name="powers"),
    path("organizations/", people.organization_list, name="organization-list"),
    path("organizations/<int:pk>/", people.organization_detail, name="organization-detail"),
    path("committees/", people.committee_list, name="committee-list"),
    path("committees/<int:pk>/", people.committee_detail, name="committee-detail"),
    path("committees/<int:pk>/seat-changes/", people.membership_change_propose, name="membership-change-propose"),
    path("seat-changes/<int:pk>/<str:act>/", people.membership_change_act, name="membership-change-act"),
]

# Ballot pages live under their own namespace: the API router already uses the names
# "ballot-list", "ballot-detail", "ballot-vote"… for /api/ballots/.
ballot_patterns = [
    path("", ballots.ballot_list, name="list"),
    path("new/", ballots.ballot_create, name="create"),
    path("<int:pk>/", ballots.ballot_detail, name="detail"),
    path("<int:pk>/tally/", ballots.ballot_tally, name="tally"),
    path("<int:pk>/vote/", ballots.ballot_vote, name="vote"),
    path("<int:pk>/recuse/", ballots.ballot_recuse, name="recuse"),
    path("<int:pk>/open/", ballots.ballot_open, name="open"),
    path("<int:pk>/close/", ballots.ballot_close, name="close"),
    path("<int:pk>/second/", ballots.ballot_second, name="second"),
    path("<int:pk>/remind/", ballots.ballot_remind, name="remind"),
]

meeting_patterns = [
    path("", meetings.meeting_list, name="list"),
    path("new/", meetings.meeting_create, name="create"),
    path("calendar/", meetings.meeting_calendar, name="calendar"),
    path("calendar/<str:token>.ics", meetings.meeting_calendar_feed, name="calendar-feed"),
    path("<int:pk>/", meetings.meeting_detail, name="detail"),
    path("<int:pk>/edit/", meetings.meeting_edit, name="edit"),
    path("<int:pk>/status/", meetings.meeting_status, name="status"),
    path("<int:pk>/agenda/", meetings.meeting_agenda, name="agenda"),
    path("<int:pk>/attendance/", meetings.meeting_attendance, name="attendance"),
    path("<int:pk>/minutes/draft/", meetings.meeting_minutes_draft, name="minutes-draft"),
    path("<int:pk>/minutes/approve/", meetings.meeting_minutes_approve, name="minutes-approve"),
    path("<int:pk>/minutes/", meetings.meeting_minutes, name="minutes"),
    path("<int:pk>/minutes.pdf", meetings.meeting_minutes_pdf, name="minutes-pdf"),
    path("<int:pk>/reply/<str:token>/", meetings.meeting_reply, name="reply"),
    path("<int:pk>/roll-call.csv", meetings.meeting_roll_call_csv, name="roll-call"),
]

sop_patterns = [
    path("", sops.sop_list, name="list"),
    path("new/", sops.sop_create, name="create"),
    path("<int:pk>/", sops.sop_detail, name="detail"),
    path("<int:pk>/version/", sops.sop_version, name="version"),
    path("<int:pk>/ballot/", sops.sop_ballot, name="ballot"),
]
