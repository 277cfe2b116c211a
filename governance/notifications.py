"""Emails the portal sends. Called from Celery tasks, never inside a request."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail

from governance.models import User


def send_account_created(user_id: int) -> bool:
    """Tell a person their portal account exists (never with the password). Returns whether
    an email went out; a person without an email address or a deactivated account gets none."""
    user = User.objects.filter(pk=user_id, is_active=True).exclude(email="").first()
    if user is None:
        return False
    send_mail(
        subject="Your account on the TGB portal",
        message=(
            f"Hello {user.get_full_name() or user.username},\n\n"
            f"An account with the username '{user.username}' has been created for you on the portal of the "
            "Technical Governance Body. Your administrator will give you your first password.\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[user.email],
    )
    return True
