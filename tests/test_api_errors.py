"""Bad requests get the one JSON error shape, never Django's HTML pages."""

from __future__ import annotations


def test_an_oversized_json_body_is_a_413_json_error(api, cast, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = '{"question": "' + "问" * 2000 + '"}'
    response = api.as_user(cast.alice).post(
        "/api/v1/consultations", body, content_type="application/json"
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


def test_a_small_json_body_passes_the_size_check(api, cast, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = api.as_user(cast.alice).post_json(
        "/api/v1/consultations", {"department": "330106", "question": "退货期限是多久？"}
    )
    assert response.status_code == 201


def test_an_empty_body_is_malformed(api, cast):
    response = api.as_user(cast.alice).post(
        "/api/v1/complaints", "", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed"


def test_an_unknown_api_path_is_a_json_404(api, cast):
    response = api.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_an_unknown_page_outside_the_api_is_an_html_404(client, db):
    """The styled page, in Chinese."""
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "页面不存在" in response.content.decode()


def test_a_consumer_at_the_workbench_gets_the_styled_403_page(client, cast):
    client.force_login(cast.alice)
    response = client.get("/staff/")
    assert response.status_code == 403
    assert "无权访问" in response.content.decode()


def test_a_nul_character_in_a_json_body_is_a_400_not_a_500(api, cast):
    response = api.as_user(cast.alice).post(
        "/api/v1/consultations",
        '{"department": "330106", "question": "退货\\u0000吗"}',
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed"


def test_an_escaped_backslash_before_u0000_is_ordinary_text(api, cast):
    response = api.as_user(cast.alice).post(
        "/api/v1/consultations",
        '{"department": "330106", "question": "路径 C:\\\\u0000 是什么？"}',
        content_type="application/json",
    )
    assert response.status_code == 201


def test_a_nul_in_the_query_or_path_is_a_400(api, cast):
    assert api.as_user(cast.ken).get("/api/v1/cases?q=a%00b").status_code == 400
    assert api.get("/api/v1/departments/3301%0006").status_code == 400


def test_schema_errors_speak_the_platforms_language_not_pydantics(api, cast):
    body = {"username": 13800000001}  # no password; a number where text goes

    response = api.as_user(None).post_json("/api/v1/auth/token", body)
    english = api.as_user(None).post_json("/api/v1/auth/token", body, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {
        "username": ["应为文本。"],
        "password": ["此项为必填项。"],
    }
    assert english.json()["error"]["fields"] == {
        "username": ["Should be text."],
        "password": ["This field is required."],
    }
