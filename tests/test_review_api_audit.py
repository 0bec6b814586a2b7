"""Review: a black-box audit of the JSON API against API.md (h1).

Each test is a request an app or a fuzzer sent that got a 500, an HTML error or an answer the
contract does not describe, with its success twin beside it.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_intake_api import complaint_body
from tests.test_supervision_factories import file_complaint

# --- no 500 for bad input ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["page", "page_size"])
@pytest.mark.parametrize("value", ["%C2%B2", "%E2%91%A0"])  # "²", "①": isdigit() but not int()
def test_a_page_number_in_digits_int_cannot_read_is_422(api, cast, name, value):
    response = api.as_user(cast.ken).get(f"/api/v1/cases?{name}={value}")

    assert response.status_code == 422
    assert name in response.json()["error"]["fields"]


def test_a_plain_page_number_still_pages(api, cast):
    response = api.as_user(cast.ken).get("/api/v1/cases?page=1&page_size=200")

    assert response.status_code == 200
    assert response.json() == {"count": 0, "results": []}


def test_a_deeply_nested_action_body_is_malformed_not_a_500(api, cast):
    case = file_complaint(cast.hank)
    deep = '{"action": ' + "[" * 100_000 + "]" * 100_000 + "}"

    response = api.as_user(cast.ken).post(
        f"/api/v1/cases/{case.number}/actions", deep, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("to=0001-01-01", "to"),  # 30 days before: before year 1
        ("from=0001-01-01&to=0001-01-01", "from"),  # three years before: year -2
        ("to=0003-06-30", "to"),
        ("to=9999-12-31", "to"),  # the day after the period: after year 9999
    ],
)
def test_statistics_for_a_date_the_calendar_cannot_reach_are_422(api, cast, query, field):
    response = api.as_user(cast.cathy).get(f"/api/v1/stats/overview?department=330100&{query}")

    assert response.status_code == 422
    assert field in response.json()["error"]["fields"]


def test_statistics_for_an_old_but_possible_period_are_counted(api, cast):
    response = api.as_user(cast.cathy).get(
        "/api/v1/stats/overview?department=330100&from=1900-01-01&to=1900-01-30"
    )

    assert response.status_code == 200
    assert (response.json()["from"], response.json()["to"]) == ("1900-01-01", "1900-01-30")


# --- errors are JSON in the one shape -----------------------------------------------------------


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_a_method_a_path_does_not_take_is_a_json_405_with_allow(api, cast, method):
    case = file_complaint(cast.hank)

    response = getattr(api.as_user(cast.ken), method)(f"/api/v1/cases/{case.number}")

    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response["Allow"] == "GET"


def test_the_method_a_path_takes_is_answered(api, cast):
    case = file_complaint(cast.hank)

    assert api.as_user(cast.ken).get(f"/api/v1/cases/{case.number}").status_code == 200


NOT_AN_OBJECT = ["[1]", '"text"', "3", "null"]


@pytest.mark.parametrize("raw", NOT_AN_OBJECT)
@pytest.mark.parametrize("path", ["/api/v1/auth/sms-code", "/api/v1/auth/token"])
def test_a_json_body_that_is_not_an_object_is_400_on_the_account_endpoints(api, db, path, raw):
    response = api.post(path, raw, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed"


@pytest.mark.parametrize("raw", NOT_AN_OBJECT)
def test_a_json_body_that_is_not_an_object_is_400_on_the_supervision_endpoints(api, cast, raw):
    case = file_complaint(cast.hank)
    created = api.as_user(cast.cathy).post_json(
        "/api/v1/supervision/orders", {"case": case.number, "instructions": "请三日内受理。"}
    )
    assert created.status_code == 201

    to_create = api.as_user(cast.cathy).post(
        "/api/v1/supervision/orders", raw, content_type="application/json"
    )
    to_answer = api.as_user(cast.ken).post(
        f"/api/v1/supervision/orders/{created.json()['id']}/respond",
        raw,
        content_type="application/json",
    )

    assert (to_create.status_code, to_answer.status_code) == (400, 400)
    assert to_answer.json()["error"]["code"] == "malformed"


def test_an_object_missing_its_fields_is_still_a_422_naming_them(api, db):
    response = api.post_json("/api/v1/auth/token", {})

    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"username", "password"}


# --- values of the wrong JSON type --------------------------------------------------------------


def test_a_boolean_amount_is_refused_not_filed_as_one_yuan(api, cast):
    response = api.as_user(cast.alice).post_json("/api/v1/complaints", complaint_body(amount=True))

    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["amount"]


@pytest.mark.parametrize("amount", ["199.00", 199, 199.5])
def test_an_amount_as_a_string_or_a_number_is_filed(api, cast, amount):
    response = api.as_user(cast.alice).post_json(
        "/api/v1/complaints", complaint_body(amount=amount)
    )

    assert response.status_code == 201
    assert response.json()["amount"] == f"{float(amount):.2f}"


@pytest.mark.parametrize("notify_me", ["yes", "true", 1])
def test_notify_me_is_a_json_boolean_not_a_word_or_a_number(api, cast, notify_me):
    body = complaint_body(notify_me=notify_me)

    response = api.as_user(cast.alice).post_json("/api/v1/reports", body)

    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["notify_me"]


def test_notify_me_true_is_kept(api, cast):
    response = api.as_user(cast.alice).post_json("/api/v1/reports", complaint_body(notify_me=True))

    assert response.status_code == 201
    assert response.json()["notify_me"] is True


# --- the published schema describes what is returned --------------------------------------------


@pytest.fixture
def schema(api, db) -> dict[str, Any]:
    response = api.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def undocumented(schema: dict[str, Any], node: dict[str, Any], value: Any, at: str) -> list[str]:
    """Where `value` has keys the schema node does not name, or lacks keys it requires."""
    node = _resolve(schema, node)
    if "anyOf" in node:
        options = [undocumented(schema, option, value, at) for option in node["anyOf"]]
        return min(options, key=len)
    if isinstance(value, dict) and "properties" in node:
        properties = node["properties"]
        problems = [f"{at}.{key}: not in the schema" for key in value if key not in properties]
        problems += [f"{at}.{key}: missing" for key in node.get("required", ()) if key not in value]
        for key, item in value.items():
            if key in properties:
                problems += undocumented(schema, properties[key], item, f"{at}.{key}")
        return problems
    if isinstance(value, list) and "items" in node:
        return [
            p
            for i, item in enumerate(value)
            for p in undocumented(schema, node["items"], item, f"{at}[{i}]")
        ]
    return []


def _success(schema: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    responses = schema["paths"][path][method]["responses"]
    status = next(code for code in responses if code.startswith("2"))
    return responses[status]["content"]["application/json"]["schema"]


def test_the_case_schema_gives_the_department_its_level(schema):
    case = _resolve(schema, _success(schema, "get", "/api/v1/cases/{number}"))
    department = _resolve(schema, case["properties"]["department"])

    assert {"code", "name", "level"} <= set(department["properties"])


def test_the_statistics_schema_gives_a_child_unit_its_code_and_name(schema):
    overview = _resolve(schema, _success(schema, "get", "/api/v1/stats/overview"))
    child = _resolve(schema, overview["properties"]["by_child"]["items"])

    assert set(_resolve(schema, child["properties"]["department"])["properties"]) == {
        "code",
        "name",
    }


def test_every_answer_has_exactly_the_keys_the_schema_names(api, cast, schema):
    case = file_complaint(cast.hank)
    created = api.as_user(cast.cathy).post_json(
        "/api/v1/supervision/orders", {"case": case.number, "instructions": "请三日内受理。"}
    )
    answers = {
        ("get", "/api/v1/cases/{number}"): f"/api/v1/cases/{case.number}",
        ("get", "/api/v1/cases"): "/api/v1/cases",
        ("get", "/api/v1/me"): "/api/v1/me",
        ("get", "/api/v1/supervision/orders"): "/api/v1/supervision/orders",
        ("get", "/api/v1/stats/overview"): "/api/v1/stats/overview?department=330100",
    }
    problems = []
    for (method, path), url in answers.items():
        response = api.as_user(cast.cathy).get(url)
        assert response.status_code == 200, url
        problems += undocumented(schema, _success(schema, method, path), response.json(), path)

    assert created.status_code == 201
    assert problems == []


def test_the_schema_documents_the_error_shape_on_every_operation(schema):
    missing = [
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if operation["responses"].get("4XX", {}).get("content", {}).get("application/json")
        != {"schema": {"$ref": "#/components/schemas/Error"}}
    ]

    assert missing == []


def test_an_error_answer_matches_the_documented_error_schema(api, cast, schema):
    response = api.as_user(cast.alice).post_json("/api/v1/complaints", complaint_body(facts=""))

    assert response.status_code == 422
    error = {"$ref": "#/components/schemas/Error"}
    assert undocumented(schema, error, response.json(), "error") == []
    assert response.json()["error"]["fields"]["facts"]
