"""Moving clocks in a test as time would, with what `perform` and the sweep keep beside them."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from cases.deadlines import settle_next_due_of
from cases.models import Deadline


def set_clocks(clocks: QuerySet[Deadline], **values: Any) -> int:
    """Update the clocks directly (a due date in the past, a flag the sweep would set) and the
    next due dates of their cases (`Case.next_due`) with them; how many clocks changed."""
    case_ids = list(clocks.values_list("case_id", flat=True))
    changed = clocks.update(**values)
    settle_next_due_of(case_ids)
    return changed
