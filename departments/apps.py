from django.apps import AppConfig


class DepartmentsConfig(AppConfig):
    name = "departments"
    verbose_name = "部门 Departments"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from departments.jurisdiction import invalidate_index
        from departments.models import Department

        # The address index is read from the tree; a change to a department makes it stale.
        post_save.connect(invalidate_index, sender=Department, dispatch_uid="dept-index-save")
        post_delete.connect(invalidate_index, sender=Department, dispatch_uid="dept-index-delete")

        from departments.naming import clear_names

        post_save.connect(clear_names, sender=Department, dispatch_uid="dept-names-save")
        post_delete.connect(clear_names, sender=Department, dispatch_uid="dept-names-delete")
