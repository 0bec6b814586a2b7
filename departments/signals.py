"""Signals of the department tree for the apps that keep figures along it."""

from __future__ import annotations

from django.dispatch import Signal

# Sent in the transaction that moves a department under another parent, once per moved
# department (not for its descendants, which move with it), shallowest first, with
# `code`, `old_path` and `new_path`. Receivers keeping figures along the paths
# (`supervision.rollups.follow_move`) move them in the same transaction.
department_moved = Signal()
