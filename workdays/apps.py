from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkdaysConfig(AppConfig):
    name = "workdays"
    verbose_name = _("工作日历")

    def ready(self) -> None:
        # Connects the receivers that keep the calendar cache in step with admin edits.
        from workdays import signals  # noqa: F401
