from rest_framework.routers import DefaultRouter

from roadmap.api import views

router = DefaultRouter()
router.register("roadmaps", views.RoadmapViewSet, basename="api-roadmap")
router.register("initiatives", views.InitiativeViewSet, basename="api-initiative")
router.register("milestones", views.MilestoneViewSet, basename="api-milestone")
router.register("progress-reports", views.ProgressReportViewSet, basename="api-progressreport")
router.register("baselines", views.BaselineViewSet, basename="api-baseline")
router.register("rebaseline-requests", views.RebaselineRequestViewSet, basename="api-rebaselinerequest")

urlpatterns = router.urls
