"""The public contract (API.md): every endpoint it names is served and described in OpenAPI."""

from __future__ import annotations

import pytest

CONTRACT = [
    ("post", "/api/v1/auth/sms-code"),
    ("post", "/api/v1/auth/register"),
    ("post", "/api/v1/auth/token"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/departments/{code}"),
    ("get", "/api/v1/departments/{code}/children"),
    ("get", "/api/v1/jurisdiction/suggest"),
    ("post", "/api/v1/complaints"),
    ("post", "/api/v1/reports"),
    ("post", "/api/v1/consultations"),
    ("get", "/api/v1/cases"),
    ("get", "/api/v1/cases/{number}"),
    ("post", "/api/v1/cases/{number}/actions"),
    ("post", "/api/v1/attachments"),
    ("post", "/api/v1/cases/{number}/attachments"),
    ("get", "/api/v1/supervision/orders"),
    ("post", "/api/v1/supervision/orders/{order_id}/respond"),
    ("get", "/api/v1/stats/overview"),
]


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize(("method", "path"), CONTRACT)
def test_the_contract_endpoint_is_published(schema, method, path):
    assert method in schema["paths"].get(path, {}), f"{method.upper()} {path} missing"


def test_the_interactive_docs_are_served_without_a_cdn(client, db):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    page = response.content.decode()
    assert "cdn." not in page
    assert "/static/ninja/swagger-ui-bundle.js" in page
