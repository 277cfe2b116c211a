"""Local passwords are for break-glass administrators once single sign-on is configured."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied

from governance.roles import is_administrator

SSO_ONLY_MESSAGE = (
    "This account signs in through its organization's identity provider: use the “Sign in with” button. "
    "Local passwords are kept for the portal's break-glass administrators."
)


def sso_configured() -> bool:
    return bool(getattr(settings, "SOCIALACCOUNT_PROVIDERS", {}).get("openid_connect", {}).get("APPS"))


def password_refused(user) -> bool:
    """A person who has signed in through an identity provider, and is no administrator,
    signs in there only: their provider decides whether they still may."""
    from identity.services.identities import has_identity

    return sso_configured() and user is not None and not is_administrator(user) and has_identity(user)


def password_refused_for(username: str | None) -> bool:
    if not username or not sso_configured():
        return False
    model = get_user_model()
    user = model._default_manager.filter(**{model.USERNAME_FIELD: username}).first()
    return password_refused(user)


class PasswordBackend(ModelBackend):
    """Django's password backend, refusing people who sign in through their provider, so the
    login page and the API token endpoint alike turn their password away. Raising
    PermissionDenied stops Django from asking any other backend."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if password_refused_for(username or kwargs.get(get_user_model().USERNAME_FIELD)):
            raise PermissionDenied(SSO_ONLY_MESSAGE)
        return super().authenticate(request, username=username, password=password, **kwargs)

    def get_user(self, user_id):
        """The signed-in person with their organization: every page's header names it, so it
        comes in the same query as the person."""
        model = get_user_model()
        try:
            user = model._default_manager.select_related("organization").get(pk=user_id)
        except model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj, obj=None):
        """Django's answer (the person's own permissions and their groups'), in one query
        rather than two: every page's header asks whether its reader may open the record."""
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                perms = Permission.objects.values_list("content_type__app_label", "codename").order_by()
            else:
                fields = ("content_type__app_label", "codename")
                own = Permission.objects.filter(user=user_obj).values_list(*fields).order_by()
                grouped = Permission.objects.filter(group__user=user_obj).values_list(*fields).order_by()
                perms = own.union(grouped)
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in perms}
        return user_obj._perm_cache
