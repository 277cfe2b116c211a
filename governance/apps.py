from django.apps import AppConfig
from django.db.models.signals import post_migrate


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance"

    def ready(self) -> None:
        from governance.roles import ensure_portal_roles

        # Derived configuration only: the role groups follow ROLE_PERMISSIONS after migrate.
        post_migrate.connect(ensure_portal_roles, dispatch_uid="governance.ensure_portal_roles")
