"""The JSON API at /api/v1/ (django-ninja; OpenAPI at /api/v1/openapi.json)."""

from __future__ import annotations

from api.errors import install_error_handlers
from api.openapi import DocumentedApi

api = DocumentedApi(
    title="Open12315 API",
    version="1.0.0",
    urls_namespace="api",
    description="Consumer complaints, reports and consultations. Errors: "
    '{"error": {"code", "message", "fields"}}.',
)
install_error_handlers(api)


def _register_routers() -> None:
    from accounts.api import router as accounts_router
    from cases.actions_api import router as case_actions_router
    from cases.api import router as cases_router
    from departments.api import router as departments_router
    from supervision.api import router as supervision_router

    api.add_router("", accounts_router)
    api.add_router("", departments_router)
    api.add_router("", cases_router)
    api.add_router("", case_actions_router)
    api.add_router("", supervision_router)


_register_routers()
