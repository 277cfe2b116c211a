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
