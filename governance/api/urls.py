from rest_framework.routers import DefaultRouter

from governance.api import views

router = DefaultRouter()
router.register("users", views.UserViewSet, basename="api-user")
router.register("organizations", views.OrganizationViewSet, basename="api-organization")
router.register("committees", views.CommitteeViewSet, basename="api-committee")
router.register("memberships", views.MembershipViewSet, basename="api-membership")
router.register("membership-changes", views.MembershipChangeViewSet, basename="api-membershipchange")
router.register("audit-events", views.AuditEventViewSet, basename="api-auditevent")
router.register("ballots", views.BallotViewSet, basename="api-ballot")
router.register("substitutions", views.SubstitutionViewSet, basename="api-substitution")
router.register("meetings", views.MeetingViewSet, basename="api-meeting")
router.register("sops", views.SOPViewSet, basename="api-sop")

urlpatterns = router.urls
