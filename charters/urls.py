from django.urls import path

from charters.views import agreements, amendments, charters, provenance, reviews

app_name = "charters"
urlpatterns = [
    path("", charters.index, name="index"),
    path("new/", charters.charter_create, name="create"),
    path("ip-frameworks/", charters.ip_frameworks, name="ip-frameworks"),
    path("<int:pk>/", charters.charter_detail, name="detail"),
    path("<int:pk>/edit/", charters.charter_edit, name="edit"),
    path("<int:pk>/steps/<slug:name>/", charters.charter_step, name="step"),
    path("<int:pk>/steps/<slug:name>/withdraw/", charters.charter_step_withdraw, name="step-withdraw"),
    path("<int:pk>/reviews/<slug:kind>/", reviews.review_form, name="review"),
    path("<int:pk>/ballot/", charters.prepare_ballot, name="prepare-ballot"),
    path("<int:pk>/amend/", amendments.amendment_form, name="amend"),
    path("<int:pk>/amend/withdraw/", amendments.amendment_withdraw, name="amendment-withdraw"),
    path("<int:pk>/versions/<int:number>/", amendments.version_detail, name="version"),
    path("<int:pk>/diff/", amendments.version_diff, name="diff"),
    path("agreements/", agreements.agreement_list, name="agreement-list"),
    path("agreements/new/", agreements.agreement_create, name="agreement-create"),
    path("agreements/<int:pk>/", agreements.agreement_detail, name="agreement-detail"),
    path("agreements/<int:pk>/edit/", agreements.agreement_edit, name="agreement-edit"),
    path("agreements/<int:pk>/sign/", agreements.agreement_sign, name="agreement-sign"),
    path("agreements/<int:pk>/renew/", agreements.agreement_renew, name="agreement-renew"),
    path("models/", provenance.model_list, name="model-list"),
    path("models/<int:pk>/", provenance.model_detail, name="model-detail"),
    path("models/<int:pk>/prov.json", provenance.model_prov, name="model-prov"),
]
