"""Single sign-on without a browser: configuration from the environment, claims, the admin's
mapping, the break-glass password path, deprovisioning from the admin and the command line."""

from __future__ import annotations

import pytest
from allauth.socialaccount.models import SocialAccount
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command

from governance.choices import PortalRole
from governance.models import ApiToken, AuditEvent, Membership, User
from governance.services import tokens
from identity.config import ConfigError, apps_from_env, socialaccount_providers
from identity.models import OrganizationMapping
from identity.services import identities
from identity.services.identities import SignInRefused, identity_from_claims
from tests.base import PASSWORD, make_body

ISSUER = "https://login.ministry.example"


def test_one_issuer_from_the_environment_with_default_claim_names():
    [app] = apps_from_env({"OIDC_ISSUER": ISSUER + "/", "OIDC_CLIENT_ID": "portal", "OIDC_CLIENT_SECRET": "s"})
    assert app["provider_id"] == "sso"
    assert app["name"] == "login.ministry.example"
    assert app["settings"]["server_url"] == ISSUER
    assert app["settings"]["organization_claim"] == "organization"
    assert app["settings"]["roles_claim"] == "roles"
    assert app["settings"]["oauth_pkce_enabled"] is True


def test_several_issuers_each_with_its_own_client_and_shared_claim_names():
    env = {
        "OIDC_PROVIDERS": "ministry, helios",
        "OIDC_ROLES_CLAIM": "groups",
        "OIDC_MFA_ACR": "urn:a, urn:b",
        "OIDC_MINISTRY_ISSUER": ISSUER,
        "OIDC_MINISTRY_CLIENT_ID": "portal",
        "OIDC_MINISTRY_NAME": "Ministry of Digital Affairs",
        "OIDC_HELIOS_ISSUER": "https://id.helios.example",
        "OIDC_HELIOS_CLIENT_ID": "tgb",
        "OIDC_HELIOS_ORGANIZATION_CLAIM": "company",
    }
    ministry, helios = apps_from_env(env)
    assert (ministry["provider_id"], ministry["name"]) == ("ministry", "Ministry of Digital Affairs")
    assert ministry["settings"]["roles_claim"] == helios["settings"]["roles_claim"] == "groups"
    assert helios["settings"]["organization_claim"] == "company"
    assert ministry["settings"]["organization_claim"] == "organization"
    assert ministry["settings"]["mfa_acr"] == ["urn:a", "urn:b"]
    assert socialaccount_providers([ministry, helios])["openid_connect"]["APPS"] == [ministry, helios]


@pytest.mark.parametrize(
    "env",
    [
        {"OIDC_ISSUER": ISSUER},
        {"OIDC_PROVIDERS": "ministry", "OIDC_MINISTRY_ISSUER": ISSUER},
        {"OIDC_PROVIDERS": "min-istry"},
        {"OIDC_PROVIDERS": "a,A", "OIDC_A_ISSUER": ISSUER, "OIDC_A_CLIENT_ID": "x"},
    ],
)
def test_an_incomplete_configuration_says_what_is_missing(env):
    with pytest.raises(ConfigError):
        apps_from_env(env)


def test_no_configuration_means_no_identity_provider():
    assert apps_from_env({}) == []


SETTINGS = {"organization_claim": "org", "roles_claim": "groups", "mfa_acr": ["urn:mfa"], "disabled_claim": "off"}


@pytest.mark.parametrize(
    ("id_token", "userinfo", "multi_factor", "disabled"),
    [
        ({"amr": ["pwd"]}, {}, False, False),
        ({"amr": ["pwd", "otp"]}, {}, True, False),
        ({"amr": ["hwk"]}, {}, True, False),
        ({"amr": ["mfa"]}, {}, True, False),
        ({"amr": ["pwd", "pin"]}, {}, False, False),
        ({"acr": "urn:mfa"}, {}, True, False),
        ({"acr": "urn:other"}, {}, False, False),
        # amr/acr count only from the signed ID token, never from userinfo.
        ({}, {"amr": ["otp"], "acr": "urn:mfa"}, False, False),
        ({}, {"off": True}, False, True),
        ({}, {"off": "false"}, False, False),
    ],
)
def test_claims_are_read_as_the_issuer_names_them(id_token, userinfo, multi_factor, disabled):
    identity = identity_from_claims(
        ISSUER, {"iss": ISSUER, "sub": "7", **id_token}, {"org": ["a", "b"], "groups": "x, y", **userinfo}, SETTINGS
    )
    assert identity.organizations == ("a", "b")
    assert identity.roles == ("x", "y")
    assert (identity.multi_factor, identity.disabled) == (multi_factor, disabled)


pytestmark_db = pytest.mark.django_db


def identity(**claims):
    return identity_from_claims(ISSUER, {"iss": ISSUER, "sub": claims.pop("sub", "42")}, claims, {})


@pytestmark_db
def test_only_administrators_map_and_only_to_roles_no_seat_carries():
    body = make_body()
    with pytest.raises(PermissionDenied):
        identities.set_mapping(body.public_chair, issuer=ISSUER, claim_value="m", organization=body.orgs.ministry)
    with pytest.raises(ValidationError, match="roles no seat carries"):
        identities.set_mapping(
            body.admin,
            issuer=ISSUER,
            claim_value="m",
            organization=body.orgs.ministry,
            roles={"chairs": {PortalRole.CO_CHAIR}},
        )
    assert not OrganizationMapping.objects.exists()
    mapping = identities.set_mapping(
        body.admin, issuer=ISSUER, claim_value="m", organization=body.orgs.ministry, roles={"pm": {"Program managers"}}
    )
    event = AuditEvent.objects.get(verb="identity.mapping_set")
    assert event.changes["after"]["roles"] == ["pm=Program managers"]
    with pytest.raises(PermissionDenied):
        identities.remove_mapping(body.staff, mapping)
    identities.remove_mapping(body.admin, mapping)
    assert AuditEvent.objects.filter(verb="identity.mapping_removed").exists()


@pytestmark_db
def test_a_seated_person_signing_in_keeps_their_seat_and_seat_roles():
    body = make_body()
    identities.set_mapping(
        body.admin, issuer=ISSUER, claim_value="m", organization=body.orgs.ministry, roles={"aud": {"Auditors"}}
    )
    seats = list(Membership.objects.values_list("pk", "user_id", "role", "organization_id", "term_end"))
    chair = body.public_chair
    user = identities.sign_in(identity(email="ana@ministry.example", organization="m", roles=["aud"]), chair)
    assert set(user.groups.values_list("name", flat=True)) == {
        PortalRole.CO_CHAIR,
        PortalRole.COMMITTEE_MEMBER,
        PortalRole.AUDITOR,
    }
    # The provider drops the role: the auditor role goes, the seat and its roles stay.
    identities.sign_in(identity(email="ana@ministry.example", organization="m", roles=[]), chair)
    assert set(chair.groups.values_list("name", flat=True)) == {PortalRole.CO_CHAIR, PortalRole.COMMITTEE_MEMBER}
    assert list(Membership.objects.values_list("pk", "user_id", "role", "organization_id", "term_end")) == seats


@pytestmark_db
def test_a_person_deactivated_in_the_portal_is_refused_even_when_mapped():
    body = make_body()
    identities.set_mapping(body.admin, issuer=ISSUER, claim_value="m", organization=body.orgs.ministry)
    body.staff.is_active = False
    body.staff.save()
    with pytest.raises(SignInRefused, match="deactivated"):
        identities.sign_in(identity(email="sam@example.org", organization="m"), body.staff)


@pytestmark_db
def test_an_unmapped_person_is_refused_and_nothing_is_made():
    make_body()
    people = User.objects.count()
    with pytest.raises(SignInRefused):
        identities.sign_in(identity(email="x@nowhere.example", organization="nowhere"), None)
    assert User.objects.count() == people


def link(user, provider="ministry"):
    SocialAccount.objects.create(user=user, provider=provider, uid=f"uid-{user.pk}")


@pytest.fixture
def sso_configured(settings):
    env = {"OIDC_ISSUER": ISSUER, "OIDC_CLIENT_ID": "portal", "OIDC_NAME": "Ministry of Digital Affairs"}
    settings.SOCIALACCOUNT_PROVIDERS = socialaccount_providers(apps_from_env(env))


@pytestmark_db
def test_the_login_page_without_identity_providers_is_as_before(client):
    page = client.get("/login/").content.decode()
    assert "Sign in with" not in page
    assert "With a portal password" not in page
    assert 'name="password"' in page


@pytestmark_db
def test_with_sso_a_person_who_has_an_identity_is_refused_a_password_and_an_administrator_is_not(
    client, sso_configured
):
    body = make_body()
    page = client.get("/login/")
    assert "Sign in with Ministry of Digital Affairs" in page.content.decode()
    assert "https://login.ministry.example" in page["Content-Security-Policy"]

    link(body.staff)
    response = client.post("/login/", {"username": "sam", "password": PASSWORD})
    assert response.status_code == 200
    assert "signs in through its organization" in response.content.decode()
    assert "_auth_user_id" not in client.session
    api = client.post("/api/auth/token/", {"username": "sam", "password": PASSWORD}, content_type="application/json")
    assert (api.status_code, api.json()["code"]) == (400, "sso_only")
    assert not ApiToken.objects.filter(user=body.staff).exists()

    # A person without an identity, and the break-glass administrator even with one, still
    # sign in with their password.
    link(body.admin)
    assert client.post("/login/", {"username": "carla", "password": PASSWORD}).status_code == 302
    client.logout()
    assert client.post("/login/", {"username": "admin", "password": PASSWORD}).status_code == 302
    api = client.post("/api/auth/token/", {"username": "admin", "password": PASSWORD}, content_type="application/json")
    assert api.status_code == 200


@pytestmark_db
def test_a_person_who_signs_in_through_a_provider_gets_api_tokens_from_the_account_page(client, sso_configured):
    body = make_body()
    link(body.staff)
    client.force_login(body.staff)
    page = client.get("/account/").content.decode()
    assert "Change your password" not in page
    assert "identity provider" in page
    response = client.post("/account/api-token/")
    key = response.context["new_token"]
    from django.test import Client

    assert Client().get("/api/ballots/").status_code == 401
    assert Client().get("/api/ballots/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200


@pytestmark_db
def test_without_sso_configured_passwords_work_for_everyone(client):
    body = make_body()
    link(body.staff)
    assert client.post("/login/", {"username": "sam", "password": PASSWORD}).status_code == 302


@pytestmark_db
def test_an_administrator_maps_a_provider_in_the_admin_and_it_is_audited(client):
    body = make_body()
    client.force_login(body.admin)
    response = client.post(
        "/admin/identity/organizationmapping/add/",
        {
            "issuer": ISSUER,
            "claim_value": "ministry-digital",
            "organization": body.orgs.ministry.pk,
            "roles-TOTAL_FORMS": "2",
            "roles-INITIAL_FORMS": "0",
            "roles-MIN_NUM_FORMS": "0",
            "roles-MAX_NUM_FORMS": "1000",
            "roles-0-claim_value": "tgb-pm",
            "roles-0-role": PortalRole.PROGRAM_MANAGER,
            "roles-1-claim_value": "",
            "roles-1-role": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    mapping = OrganizationMapping.objects.get()
    assert [(rm.claim_value, rm.role) for rm in mapping.roles.all()] == [("tgb-pm", PortalRole.PROGRAM_MANAGER)]
    assert AuditEvent.objects.filter(verb="identity.mapping_set", actor=body.admin).count() == 1
    # Seat roles are not offered.
    form = client.get(f"/admin/identity/organizationmapping/{mapping.pk}/change/").content.decode()
    assert PortalRole.CO_CHAIR.value not in form
    # allauth's own pages (with the client secrets) are not in the admin.
    assert client.get("/admin/socialaccount/socialapp/").status_code == 404


@pytestmark_db
def test_an_administrator_deprovisions_people_from_the_admin_and_the_command_line(client):
    body = make_body()
    key, _ = tokens.issue_token(body.staff, verified=False)
    other = User.objects.get(username="tara")
    other_key, _ = tokens.issue_token(other, verified=False)
    epoch = body.staff.sign_in_epoch
    client.force_login(body.admin)
    response = client.post(
        "/admin/governance/user/", {"action": "deprovision", "_selected_action": [body.staff.pk]}, follow=True
    )
    assert response.status_code == 200
    body.staff.refresh_from_db()
    assert body.staff.sign_in_epoch == epoch + 1
    assert tokens.authenticate_key(key) is None
    assert tokens.authenticate_key(other_key) is not None
    assert AuditEvent.objects.filter(verb="identity.deprovisioned", actor=body.admin).exists()

    call_command("deprovision", "tara")
    assert tokens.authenticate_key(other_key) is None
    with pytest.raises(CommandError, match="nobody-here"):
        call_command("deprovision", "nobody-here")
    with pytest.raises(PermissionDenied):
        identities.deprovision(body.staff, other)


@pytestmark_db
def test_an_administrator_links_a_seated_member_to_their_identity(sso_configured):
    body = make_body()
    chair = body.public_chair
    with pytest.raises(PermissionDenied):
        identities.link_identity(chair, chair, provider_id="sso", subject="ana-at-ministry")
    with pytest.raises(ValidationError, match="No identity provider"):
        identities.link_identity(body.admin, chair, provider_id="elsewhere", subject="ana-at-ministry")
    call_command("link_identity", "ana", "sso", "ana-at-ministry", "--as", "admin")
    assert SocialAccount.objects.get(provider="sso", uid="ana-at-ministry").user == chair
    assert AuditEvent.objects.filter(verb="identity.linked", actor=body.admin).exists()
    with pytest.raises(CommandError, match="another account"):
        call_command("link_identity", "ben", "sso", "ana-at-ministry", "--as", "admin")
    # Linked, the chair now signs in through the provider only.
    assert identities.has_identity(chair)
