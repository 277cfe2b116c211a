from django.urls import path

from charters import views

app_name = "charters"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.charter_create, name="create"),
    path("ip-frameworks/", views.ip_frameworks, name="ip-frameworks"),
    path("<int:pk>/", views.charter_detail, name="detail"),
    path("<int:pk>/edit/", views.charter_edit, name="edit"),
    path("<int:pk>/steps/<slug:name>/", views.charter_step, name="step"),
    path("<int:pk>/reviews/<slug:kind>/", views.review_form, name="review"),
    path("<int:pk>/ballot/", views.prepare_ballot, name="prepare-ballot"),
    path("<int:pk>/amend/", views.amendment_form, name="amend"),
    path("<int:pk>/amend/withdraw/", views.amendment_withdraw, name="amendment-withdraw"),
    path("<int:pk>/versions/<int:number>/", views.version_detail, name="version"),
    path("<int:pk>/diff/", views.version_diff, name="diff"),
    path("agreements/", views.agreement_list, name="agreement-list"),
    path("agreements/new/", views.agreement_create, name="agreement-create"),
    path("agreements/<int:pk>/", views.agreement_detail, name="agreement-detail"),
    path("agreements/<int:pk>/edit/", views.agreement_edit, name="agreement-edit"),
    path("agreements/<int:pk>/sign/", views.agreement_sign, name="agreement-sign"),
    path("agreements/<int:pk>/renew/", views.agreement_renew, name="agreement-renew"),
    path("models/", views.model_list, name="model-list"),
    path("models/<int:pk>/", views.model_detail, name="model-detail"),
    path("models/<int:pk>/prov.json", views.model_prov, name="model-prov"),
]
