"""Labels and rows for the consumer's case pages, read off the presenter's payload.

The payload (`cases.presenters`) already holds only what the consumer may see: public events,
stations shown as their county bureau. This module only names things in the active language.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

from cases.models import ClockKind, Kind, Outcome, Status
from cases.workflow import action_spec

EXTRA_ACTIONS = {"submit": lambda: _("提交"), "attach": lambda: _("添加证据材料")}


def kind_label(kind: str) -> str:
    return str(Kind(kind).label) if kind in Kind.values else kind


def status_label(status: str, outcome: str | None) -> str:
    label = str(Status(status).label) if status in Status.values else status
    if outcome and outcome in Outcome.values:
        return f"{label} · {Outcome(outcome).label}"
    return label


def action_label(kind: str, action: str) -> str:
    if action in EXTRA_ACTIONS:
        return str(EXTRA_ACTIONS[action]())
    spec = action_spec(kind, action)
    return str(spec.label) if spec else action


def clock_label(kind: str) -> str:
    return str(ClockKind(kind).label) if kind in ClockKind.values else kind


def moment(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _day(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def deadline_rows(deadlines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "label": clock_label(item["kind"]),
            "due": _day(item["due"]),
            "met_at": moment(item.get("met_at")),
            "overdue": item.get("overdue", False),
        }
        for item in deadlines
    ]


def next_deadline(deadlines: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The earliest clock still running, as a row."""
    running = [row for row in deadline_rows(deadlines) if row["met_at"] is None]
    return min(running, key=lambda row: row["due"]) if running else None


def timeline_rows(kind: str, timeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Newest first: the consumer looks for the latest step."""
    rows = [
        {
            "at": moment(item["at"]),
            "label": action_label(kind, item["action"]),
            "by": item.get("by") or "",
            "department": item.get("department") or "",
            "note": item.get("note") or "",
        }
        for item in timeline
    ]
    return list(reversed(rows))


def case_row(summary: dict[str, Any]) -> dict[str, Any]:
    """One line of "我的诉求" from `cases.presenters.case_summary`."""
    return {
        "number": summary["number"],
        "kind": kind_label(summary["kind"]),
        "status": summary["status"],
        "status_label": status_label(summary["status"], summary.get("outcome")),
        "respondent": summary.get("respondent_name") or "",
        "department": (summary.get("department") or {}).get("name", ""),
        "received_at": moment(summary.get("received_at")),
        "next_deadline": next_deadline(summary.get("deadlines", [])),
    }
