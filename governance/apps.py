from django.apps import AppConfig
from django.db.models.signals import post_migrate


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance"

    def ready(self) -> None:
        from django.apps import apps

        from governance.roles import ensure_portal_roles
        from governance.values import install_field_checks

        # Text, JSON and dates in range on every model of the portal's own apps (values.py).
        install_field_checks(
            model
            for label in ("governance", "charters", "compute", "roadmap")
            for model in apps.get_app_config(label).get_models()
        )

        # Derived configuration only: the role groups follow ROLE_PERMISSIONS after migrate.
        post_migrate.connect(ensure_portal_roles, dispatch_uid="governance.ensure_portal_roles")
