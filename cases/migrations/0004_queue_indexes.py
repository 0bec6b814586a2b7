# The queue pages (workbench.selectors, the staff list of the API) at a million cases: a subtree's
# cases by status with their ids (counted and joined to their clocks from the index alone; it
# replaces the (department, status) index, whose prefix it keeps), the few cases handled by a unit
# other than their holder, and the open clocks of a case (its next due date).

import django.db.models.lookups
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0003_sweep_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["department", "status", "id"], name="case_dept_status_id"),
        ),
        migrations.RemoveIndex(
            model_name="case",
            name="case_dept_status",
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=models.Q(
                    django.db.models.lookups.Exact(
                        models.F("handler_unit"), models.F("department")
                    ),
                    _negated=True,
                ),
                fields=["handler_unit", "status", "department", "id"],
                name="case_handled_elsewhere",
            ),
        ),
        migrations.AddIndex(
            model_name="deadline",
            index=models.Index(
                condition=models.Q(("cancelled", False), ("met_at__isnull", True)),
                fields=["case", "due"],
                include=("paused_since", "overdue", "due_soon"),
                name="open_deadline_case",
            ),
        ),
    ]
