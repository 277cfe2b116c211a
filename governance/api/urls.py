from rest_framework.routers import DefaultRouter

from governance.api import views

router = DefaultRouter()
router.register("users", views.UserViewSet, basename="user")
router.register("organizations", views.OrganizationViewSet, basename="organization")
router.register("committees", views.CommitteeViewSet, basename="committee")
router.register("memberships", views.MembershipViewSet, basename="membership")
router.register("audit-events", views.AuditEventViewSet, basename="auditevent")
router.register("ballots", views.BallotViewSet, basename="ballot")

urlpatterns = router.urls
