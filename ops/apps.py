from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from ops.admin_site import warn_on_admin_index

        warn_on_admin_index()
