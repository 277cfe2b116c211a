from rest_framework.routers import DefaultRouter

from roadmap.api import views

router = DefaultRouter()
router.register("roadmaps", views.RoadmapViewSet, basename="roadmap")
router.register("initiatives", views.InitiativeViewSet, basename="initiative")
router.register("milestones", views.MilestoneViewSet, basename="milestone")
router.register("progress-reports", views.ProgressReportViewSet, basename="progressreport")
router.register("baselines", views.BaselineViewSet, basename="baseline")
router.register("rebaseline-requests", views.RebaselineRequestViewSet, basename="rebaselinerequest")

urlpatterns = router.urls
