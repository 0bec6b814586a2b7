"""Cases API: submission, lists, detail, actions, evidence."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["cases"])
