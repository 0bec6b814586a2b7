"""Count the overview's "now" flags (overdue, due soon) in the rollups: the FLAGGED rows of the
cases already in the table (`rollups.recount_flags`). From here on every change keeps them."""

from django.db import migrations


def count_flags(apps, schema_editor):  # noqa: ARG001 - the migration signature
    # The live counting code: it reads the cases and clocks through the current models, which
    # this migration's dependencies bring to the state it needs.
    from supervision.rollups import recount_flags

    recount_flags()


def drop_flags(apps, schema_editor):  # noqa: ARG001 - the migration signature
    apps.get_model("supervision", "Rollup").objects.filter(metric="flagged").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0008_case_next_due"),
        ("supervision", "0005_fewer_indexes"),
    ]

    operations = [migrations.RunPython(count_flags, drop_flags)]
