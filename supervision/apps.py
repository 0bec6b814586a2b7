from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    name = "supervision"
    verbose_name = _("督办与监测")

    def ready(self) -> None:
        from departments.signals import department_moved
        from supervision.rollups import moved_department

        # The rollups (overview figures, list counters) are kept along the department paths.
        department_moved.connect(moved_department, dispatch_uid="rollups-follow-move")
