# The deadline sweep's reads of marked clocks (supervision.sweeps): the due-soon clocks it tells and
# un-marks, the overdue clocks that owe an order. Each holds a few thousand of 1.7 M clocks.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0002_workflow_pause_extend"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="deadline",
            index=models.Index(
                condition=models.Q(
                    ("cancelled", False), ("due_soon", True), ("met_at__isnull", True)
                ),
                fields=["due"],
                name="open_deadline_due_soon",
            ),
        ),
        migrations.AddIndex(
            model_name="deadline",
            index=models.Index(
                condition=models.Q(
                    ("cancelled", False), ("met_at__isnull", True), ("overdue", True)
                ),
                fields=["due"],
                name="open_deadline_overdue",
            ),
        ),
    ]
