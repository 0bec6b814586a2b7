"""Submission drafts kept in the session while the consumer walks through the steps.

A draft holds what the consumer typed (the raw form values, so nothing is lost when a step is
invalid), the steps already sent (whose problems show when the consumer comes back to them), the
evidence already uploaded, the errors the intake service returned, and a token that is both the
form's identity and the idempotency key of the final submission: a double click sends the same
token twice and intake makes one case.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from django.contrib.sessions.backends.base import SessionBase

from cases.idempotency import issue_form_token

DRAFTS_KEY = "portal.drafts"
SUBMITTED_KEY = "portal.submitted"
KEEP_SUBMITTED = 20


@dataclass
class Draft:
    kind: str
    token: str = field(default_factory=issue_form_token)
    data: dict[str, str] = field(default_factory=dict)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)
    visited: list[str] = field(default_factory=list)

    @property
    def attachment_ids(self) -> list[str]:
        return [str(item["id"]) for item in self.attachments]

    def update(self, values: dict[str, str]) -> None:
        self.data.update(values)

    def visit(self, slug: str) -> None:
        if slug not in self.visited:
            self.visited.append(slug)

    def forget_visit(self, slug: str) -> None:
        self.visited = [visited for visited in self.visited if visited != slug]

    def clear_errors(self, names: list[str]) -> None:
        for name in names:
            self.errors.pop(name, None)


def load_draft(session: SessionBase, kind: str) -> Draft:
    stored = session.get(DRAFTS_KEY, {}).get(kind)
    return Draft(**stored) if stored else Draft(kind=kind)


def save_draft(session: SessionBase, draft: Draft) -> None:
    drafts = dict(session.get(DRAFTS_KEY, {}))
    drafts[draft.kind] = asdict(draft)
    session[DRAFTS_KEY] = drafts


def discard_draft(session: SessionBase, kind: str) -> None:
    drafts = dict(session.get(DRAFTS_KEY, {}))
    drafts.pop(kind, None)
    session[DRAFTS_KEY] = drafts


def remember_submission(session: SessionBase, token: str, number: str) -> None:
    """Keep the last few tokens that made a case, so a repeated POST finds its case again."""
    submitted = dict(session.get(SUBMITTED_KEY, {}))
    submitted[token] = number
    session[SUBMITTED_KEY] = dict(list(submitted.items())[-KEEP_SUBMITTED:])


def submitted_number(session: SessionBase, token: str) -> str | None:
    return session.get(SUBMITTED_KEY, {}).get(token)
