from rest_framework.routers import DefaultRouter

from compute.api import views

router = DefaultRouter()
# Credits
router.register("resources", views.ResourceViewSet, basename="resource")
router.register("credit-pools", views.CreditPoolViewSet, basename="creditpool")
router.register("credit-accounts", views.CreditAccountViewSet, basename="creditaccount")
router.register("credit-transactions", views.LedgerTransactionViewSet, basename="credittransaction")
router.register("credit-requests", views.CreditRequestViewSet, basename="creditrequest")
router.register("credit-transfers", views.CreditTransferViewSet, basename="credittransfer")
router.register("credit-refunds", views.CreditRefundViewSet, basename="creditrefund")

urlpatterns = router.urls
