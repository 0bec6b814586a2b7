"""The admin start page warns when the working-day calendar is guessing (WORKFLOW.md: "a date
outside all known data falls back to Monday–Friday and the admin dashboard says so")."""

from __future__ import annotations

from functools import wraps

from django.contrib import admin


def warn_on_admin_index() -> None:
    from workdays.admin import warn_about_fallback_years

    original = admin.site.index
    if getattr(original, "_warns_fallback", False):
        return

    @wraps(original)
    def index(request, extra_context=None):
        warn_about_fallback_years(request)
        return original(request, extra_context)

    index._warns_fallback = True  # type: ignore[attr-defined]
    admin.site.index = index  # type: ignore[method-assign]
