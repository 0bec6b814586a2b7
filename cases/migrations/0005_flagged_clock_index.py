# The monitoring overview's "now" flags (supervision.stats): the marked open clocks, a few thousand
# of 1.7 M at 1M cases, read from the index alone.

from django.db import migrations, models


class Migration(migrations.Migration):
    # H1-LOCAL: after both parallel index migrations (a merge); the lead linearizes them.
    dependencies = [
        ("cases", "0004_queue_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="deadline",
            index=models.Index(
                condition=models.Q(
                    ("cancelled", False),
                    ("met_at__isnull", True),
                    models.Q(("overdue", True), ("due_soon", True), _connector="OR"),
                ),
                fields=["case", "overdue", "due_soon"],
                name="flagged_open_clock",
            ),
        ),
    ]
