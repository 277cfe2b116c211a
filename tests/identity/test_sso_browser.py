"""Single sign-on in a real browser against a real OpenID provider (oidc-provider on Node.js):
the redirect flow, claim mapping, no seat made, deprovisioning, two-factor from the provider."""

from __future__ import annotations

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from governance.choices import PortalRole
from governance.models import ApiToken, AuditEvent, Membership, User
from governance.services import tokens
from governance.two_factor import has_two_factor
from identity.models import IdentityProviderDevice, OrganizationMapping
from identity.services import identities
from tests.base import PASSWORD as BODY_PASSWORD
from tests.base import make_body
from tests.browser.axe import assert_accessible
from tests.identity.provider import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def map_organizations(body, sso) -> OrganizationMapping:
    """The administrator's mappings: the ministry's people and roles, and Helios's auditors."""
    identities.set_mapping(
        body.admin,
        issuer=sso.issuer("helios"),
        claim_value="helios",
        organization=body.orgs.helios,
        roles={"auditors": {PortalRole.AUDITOR}},
    )
    return identities.set_mapping(
        body.admin,
        issuer=sso.issuer("ministry"),
        claim_value="ministry-digital",
        organization=body.orgs.ministry,
        roles={"tgb-program-manager": {PortalRole.PROGRAM_MANAGER}, "tgb-staff": {PortalRole.STAFF}},
    )


def sign_in_with(page, base_url: str, provider: str, username: str) -> None:
    """From the portal's login page through the provider's own form and back."""
    page.goto(f"{base_url}/login/")
    page.get_by_role("button", name=f"Sign in with {provider}").click()
    page.wait_for_url("http://127.0.0.1:*/interaction/*")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"{base_url}/**")


def test_a_person_signs_in_through_their_provider_and_gets_their_organization_and_roles(live_server, page, sso):
    body = make_body()
    map_organizations(body, sso)
    seats = Membership.objects.count()

    page.goto(f"{live_server.url}/login/")
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        assert_accessible(page, f"login page with two identity providers at {width} px")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=str(screenshots() / f"login-sso-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    buttons = page.get_by_role("button", name="Sign in with")
    assert buttons.all_inner_texts() == ["Sign in with Ministry of Digital Affairs", "Sign in with Helios Compute"]

    sign_in_with(page, live_server.url, "Ministry of Digital Affairs", "alice")
    assert page.url == f"{live_server.url}/"
    assert page.get_by_role("heading", name="Welcome, Alice").is_visible()

    alice = User.objects.get(email="alice@ministry.example")
    assert (alice.username, alice.first_name, alice.last_name) == ("alice.aune", "Alice", "Aune")
    assert alice.organization == body.orgs.ministry
    assert not alice.has_usable_password()
    assert set(alice.groups.values_list("name", flat=True)) == {PortalRole.PROGRAM_MANAGER}
    # A sign-in makes the person and their portal roles, never a seat (DESIGN.md 2.7).
    assert Membership.objects.count() == seats
    assert not alice.memberships.exists()
    assert AuditEvent.objects.filter(verb="identity.signed_in", object_id=str(alice.pk)).exists()

    # Next time the provider gives a new role and drops the old one: the portal follows.
    sso.change("ministry", "alice", roles=["tgb-staff"])
    page.context.clear_cookies()
    sign_in_with(page, live_server.url, "Ministry of Digital Affairs", "alice")
    assert page.get_by_role("heading", name="Welcome, Alice").is_visible()
    assert set(alice.groups.values_list("name", flat=True)) == {PortalRole.STAFF}
    assert User.objects.filter(email="alice@ministry.example").count() == 1

    # The second issuer maps its own people to its own organization.
    page.context.clear_cookies()
    sign_in_with(page, live_server.url, "Helios Compute", "henrik")
    henrik = User.objects.get(email="henrik@helios.example")
    assert henrik.organization == body.orgs.helios
    assert set(henrik.groups.values_list("name", flat=True)) == {PortalRole.AUDITOR}
    assert Membership.objects.count() == seats


def signed_in_as(page, base_url: str) -> str | None:
    """Who the portal says is signed in on this browser's session (None: a visitor)."""
    page.goto(f"{base_url}/account/")
    if "/login/" in page.url:
        return None
    return page.get_by_role("heading", level=1).inner_text()


def test_a_person_removed_at_their_provider_is_refused_and_loses_every_session_and_token(live_server, browser, sso):
    body = make_body()
    mapping = map_organizations(body, sso)
    first = browser.new_context().new_page()
    sign_in_with(first, live_server.url, "Ministry of Digital Affairs", "alice")
    alice = User.objects.get(email="alice@ministry.example")
    key, _ = tokens.issue_token(alice, verified=False)
    assert tokens.authenticate_key(key) is not None
    assert signed_in_as(first, live_server.url) is not None

    # The ministry's mapping is removed (the person's organization is no longer a member's):
    # the next sign-in, from another browser, is refused and takes everything away.
    identities.remove_mapping(body.admin, mapping)
    second = browser.new_context().new_page()
    sign_in_with(second, live_server.url, "Ministry of Digital Affairs", "alice")
    assert second.get_by_role("heading", name="Sign-in refused").is_visible()
    assert "not mapped to a member organization" in second.get_by_role("alert").inner_text()
    assert_accessible(second, "the refused sign-in")
    for width in (1366, 390):
        second.set_viewport_size({"width": width, "height": 800})
        assert second.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        second.screenshot(path=str(screenshots() / f"sso-refused-{width}.png"), full_page=True)
    assert signed_in_as(second, live_server.url) is None
    assert signed_in_as(first, live_server.url) is None, "the earlier session still works"
    assert tokens.authenticate_key(key) is None
    assert ApiToken.objects.get(user=alice).revoked_at is not None
    assert not alice.groups.filter(name=PortalRole.PROGRAM_MANAGER).exists()
    assert AuditEvent.objects.filter(verb="identity.deprovisioned", object_id=str(alice.pk)).exists()
    first.context.close()
    second.context.close()


def test_an_account_disabled_or_refused_at_the_provider_gets_no_access(live_server, browser, sso):
    body = make_body()
    map_organizations(body, sso)
    first = browser.new_context().new_page()
    sign_in_with(first, live_server.url, "Helios Compute", "henrik")
    henrik = User.objects.get(email="henrik@helios.example")
    key, _ = tokens.issue_token(henrik, verified=True)

    # The provider marks the account disabled (OIDC_DISABLED_CLAIM=account_disabled).
    sso.change("helios", "henrik", account_disabled=True)
    second = browser.new_context().new_page()
    sign_in_with(second, live_server.url, "Helios Compute", "henrik")
    assert "reports this account as disabled" in second.get_by_role("alert").inner_text()
    assert signed_in_as(first, live_server.url) is None
    assert tokens.authenticate_key(key) is None
    assert not henrik.groups.exists()

    # The provider refuses the sign-in outright (access_denied): the portal lets no one in.
    sso.change("helios", "henrik", account_disabled=False, refuse=True)
    third = browser.new_context().new_page()
    sign_in_with(third, live_server.url, "Helios Compute", "henrik")
    assert third.get_by_role("heading", name="Sign-in failed").is_visible()
    assert_accessible(third, "the provider's refusal")
    assert signed_in_as(third, live_server.url) is None
    for page in (first, second, third):
        page.context.close()


def enrol_totp(user) -> None:
    TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def test_two_factor_from_the_provider_is_honoured_and_otherwise_the_portals_own_is_asked(live_server, browser, sso):
    body = make_body()
    map_organizations(body, sso)
    # Each person has enrolled the portal's own TOTP (as co-chairs and administrators may).
    people = {}
    for username in ("alice", "marta", "anton"):
        page = browser.new_context().new_page()
        sign_in_with(page, live_server.url, "Ministry of Digital Affairs", username)
        people[username] = User.objects.get(email=f"{username}@ministry.example")
        page.context.close()
    for user in people.values():
        enrol_totp(user)

    # amr ["pwd"]: the provider used one factor, so the portal asks for its own code.
    page = browser.new_context().new_page()
    sign_in_with(page, live_server.url, "Ministry of Digital Affairs", "alice")
    assert "/account/two-factor/verify/" in page.url
    page.goto(f"{live_server.url}/account/")
    assert "/account/two-factor/verify/" in page.url
    page.context.close()

    # amr ["pwd", "otp"]: multi-factor at the provider; no second code at the portal.
    page = browser.new_context().new_page()
    sign_in_with(page, live_server.url, "Ministry of Digital Affairs", "marta")
    assert page.url == f"{live_server.url}/"
    page.goto(f"{live_server.url}/account/")
    assert "/two-factor/" not in page.url
    page.context.close()

    # acr "urn:tgb:mfa", which OIDC_MFA_ACR names: also multi-factor.
    page = browser.new_context().new_page()
    sign_in_with(page, live_server.url, "Ministry of Digital Affairs", "anton")
    assert page.url == f"{live_server.url}/"
    page.context.close()

    # The provider's factor never counts as the person having two-factor sign-in of their own.
    assert IdentityProviderDevice.objects.filter(user=people["marta"]).exists()
    assert not IdentityProviderDevice.objects.filter(user=people["alice"]).exists()
    TOTPDevice.objects.filter(user=people["marta"]).delete()
    assert not has_two_factor(people["marta"])

    # Marta signs in again without multi-factor: her provider device is no pass, and since
    # she has no TOTP of her own, she is not held at a code page that has no device to ask.
    sso.change("ministry", "marta", amr=["pwd"])
    page = browser.new_context().new_page()
    sign_in_with(page, live_server.url, "Ministry of Digital Affairs", "marta")
    assert page.url == f"{live_server.url}/"
    page.context.close()


def test_break_glass_administrators_keep_their_password_and_sso_people_are_sent_to_their_provider(
    live_server, page, sso
):
    body = make_body()
    map_organizations(body, sso)
    sign_in_with(page, live_server.url, "Ministry of Digital Affairs", "alice")
    alice = User.objects.get(email="alice@ministry.example")
    alice.set_password("a-local-password-too")
    alice.save()
    page.context.clear_cookies()

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(alice.username)
    page.get_by_label("Password").fill("a-local-password-too")
    page.get_by_role("button", name="Log in").click()
    assert "signs in through its organization's identity provider" in page.get_by_role("alert").inner_text()
    assert_accessible(page, "the refused password")
    assert signed_in_as(page, live_server.url) is None

    # The break-glass administrator: password (and the portal's own two-factor, when enrolled).
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(BODY_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")
    assert signed_in_as(page, live_server.url) is not None


def screenshots():
    from django.conf import settings

    folder = settings.BASE_DIR / "test-artifacts"
    folder.mkdir(exist_ok=True)
    return folder
