from rest_framework.routers import DefaultRouter

from charters.api import views

router = DefaultRouter()
router.register("charters", views.CharterViewSet, basename="charter")
router.register("data-use-agreements", views.DataUseAgreementViewSet, basename="datauseagreement")
router.register("datasets", views.DatasetViewSet, basename="dataset")
router.register("models", views.RegisteredModelViewSet, basename="registeredmodel")

urlpatterns = router.urls
