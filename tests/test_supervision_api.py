"""The supervision orders API: listing, answering and manual orders, each refusal with its twin."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cases.models import CaseEvent, Visibility
from cases.rules import local_date
from cases.text import clean_text
from notifications.models import Notification
from supervision.models import OrderKind, OrderStatus
from supervision.models import SupervisionOrder as Order
from supervision.services import default_due
from supervision.sweeps import sweep_deadlines
from tests.test_supervision_factories import act, file_complaint

ORDER_KEYS = {
    "id",
    "case",
    "kind",
    "from_department",
    "to_department",
    "instructions",
    "due",
    "status",
    "response",
    "created_at",
}


@pytest.fixture
def complaint(cast):
    return file_complaint(cast.hank)


@pytest.fixture
def order(complaint):
    sweep_deadlines(today=dt.date(2026, 6, 11))
    return Order.objects.get()


def respond(api, user, order_id, note="已受理，正在调解。"):
    return api.as_user(user).post_json(
        f"/api/v1/supervision/orders/{order_id}/respond", {"note": note}
    )


# --- listing ----------------------------------------------------------------------------------


def test_an_order_has_exactly_the_documented_shape(api, cast, order, complaint):
    body = api.as_user(cast.cathy).get("/api/v1/supervision/orders").json()

    assert body["count"] == 1
    (listed,) = body["results"]
    assert set(listed) == ORDER_KEYS
    assert listed["case"] == complaint.number
    assert (listed["kind"], listed["from_department"], listed["to_department"]) == (
        "overdue",
        "330100",
        "330106",
    )
    assert (listed["due"], listed["status"], listed["response"]) == ("2026-06-16", "open", "")
    assert listed["created_at"].endswith("+08:00")


@pytest.mark.parametrize(
    ("who", "count"),
    [("nora", 1), ("paul", 1), ("cathy", 1), ("ken", 1), ("helen", 1), ("sam", 0)],
)
def test_the_issuing_and_receiving_subtrees_see_the_order(api, cast, order, who, count):
    # The order goes from the city to the county: a station of the county is in neither subtree.
    body = api.as_user(getattr(cast, who)).get("/api/v1/supervision/orders").json()
    assert body["count"] == count


def test_the_neighbouring_county_sees_no_order(api, cast, order):
    assert api.as_user(cast.nick).get("/api/v1/supervision/orders").json() == {
        "count": 0,
        "results": [],
    }


def test_signed_out_callers_get_401(api, cast, order):
    assert api.as_user(None).get("/api/v1/supervision/orders").status_code == 401
    response = api.as_user(None).post_json(
        f"/api/v1/supervision/orders/{order.pk}/respond", {"note": "x"}
    )
    assert response.status_code == 401


def test_a_consumer_may_not_list_orders(api, cast, order):
    response = api.as_user(cast.alice).get("/api/v1/supervision/orders")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_orders_filter_by_status_and_case(api, cast, order, complaint):
    client = api.as_user(cast.cathy)

    assert client.get("/api/v1/supervision/orders?status=answered").json()["count"] == 0
    assert client.get("/api/v1/supervision/orders?status=open").json()["count"] == 1
    assert client.get(f"/api/v1/supervision/orders?case={complaint.number}").json()["count"] == 1
    assert client.get("/api/v1/supervision/orders?case=T000").json()["count"] == 0


def test_orders_are_paginated(api, cast, complaint):
    for n in range(3):
        api.as_user(cast.cathy).post_json(
            "/api/v1/supervision/orders", {"case": complaint.number, "instructions": f"第{n}次"}
        )

    page = api.as_user(cast.cathy).get("/api/v1/supervision/orders?page=2&page_size=2").json()

    assert page["count"] == 3 and len(page["results"]) == 1


@pytest.mark.parametrize(
    "query", ["status=closed", "page=0", "page_size=201", "page_size=0", "page=x"]
)
def test_bad_list_parameters_are_422(api, cast, order, query):
    response = api.as_user(cast.cathy).get(f"/api/v1/supervision/orders?{query}")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid"


# --- answering --------------------------------------------------------------------------------


def test_the_county_answers_its_order(api, cast, order, complaint):
    response = respond(api, cast.ken, order.pk)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == ORDER_KEYS
    assert (body["status"], body["response"]) == ("answered", "已受理，正在调解。")
    order.refresh_from_db()
    assert order.responded_by == cast.ken and order.responded_at is not None
    event = CaseEvent.objects.get(case=complaint, action="supervision_answer")
    assert event.visibility == Visibility.INTERNAL and event.actor == cast.ken


@pytest.mark.parametrize("who", ["nick", "alice", "cathy", "sam", "hank"])
def test_only_the_unit_addressed_may_answer_others_get_404(api, cast, order, who):
    # nick: the neighbouring county; alice: the consumer; cathy: the issuing city; sam: a
    # station below; hank: a hotline agent of the county (not one of its case-working roles).
    response = respond(api, getattr(cast, who), order.pk)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    order.refresh_from_db()
    assert order.status == OrderStatus.OPEN
    assert respond(api, cast.ken, order.pk).status_code == 200  # the success twin


def test_an_answered_order_cannot_be_answered_again(api, cast, order):
    respond(api, cast.ken, order.pk)

    again = respond(api, cast.helen, order.pk, note="再答复")

    assert again.status_code == 409
    order.refresh_from_db()
    assert order.response == "已受理，正在调解。"


def test_an_escalated_order_is_answered_through_its_successor(api, cast, order):
    sweep_deadlines(today=dt.date(2026, 6, 17))
    successor = Order.objects.get(round=1)

    assert respond(api, cast.ken, order.pk).status_code == 409
    assert respond(api, cast.ken, successor.pk).status_code == 200


def test_an_empty_answer_is_422(api, cast, order):
    response = respond(api, cast.ken, order.pk, note="  ")
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"note": ["必填。"]}


# --- manual orders ----------------------------------------------------------------------------


def create(api, user, case_number, headers=None, **body):
    return api.as_user(user).post_json(
        "/api/v1/supervision/orders",
        {"case": case_number, "instructions": "请三日内受理。", **body},
        **(headers or {}),
    )


def test_a_city_supervisor_orders_the_county(api, cast, complaint):
    response = create(api, cast.cathy, complaint.number)

    assert response.status_code == 201
    body = response.json()
    assert set(body) == ORDER_KEYS
    assert (body["kind"], body["from_department"], body["to_department"]) == (
        OrderKind.MANUAL,
        "330100",
        "330106",
    )
    assert body["due"] == default_due(dt.date.fromisoformat(body["created_at"][:10])).isoformat()
    order = Order.objects.get()
    assert order.created_by == cast.cathy
    alerted = Notification.objects.filter(case=complaint, subject__startswith="督办单")
    assert sorted(alerted.values_list("recipient__username", flat=True)) == ["helen", "ken"]
    event = CaseEvent.objects.get(case=complaint, action="supervise")
    assert event.visibility == Visibility.INTERNAL and event.actor == cast.cathy


def test_a_supervisor_outside_the_subtree_gets_404(api, cast, complaint):
    response = create(api, cast.nick, complaint.number)

    assert response.status_code == 404
    assert not Order.objects.exists()
    assert create(api, cast.cathy, complaint.number).status_code == 201  # the success twin


@pytest.mark.parametrize("who", ["helen", "ken"])
def test_the_unit_holding_the_case_cannot_supervise_itself(api, cast, complaint, who):
    response = create(api, getattr(cast, who), complaint.number)
    assert response.status_code == 403
    assert not Order.objects.exists()


def test_a_county_supervisor_orders_a_station_of_the_county(api, cast, complaint):
    act(complaint, "accept", by=cast.ken, on=dt.date(2026, 6, 2), handler_unit="330106001")

    body = create(api, cast.helen, complaint.number).json()

    assert (body["from_department"], body["to_department"]) == ("330106", "330106001")


def test_a_due_date_in_the_past_is_422(api, cast, complaint):
    response = create(api, cast.cathy, complaint.number, due="2020-01-01")
    assert response.status_code == 422
    assert "due" in response.json()["error"]["fields"]


def test_a_due_date_more_than_90_days_away_is_422(api, cast, complaint):
    today = local_date(timezone.now())  # the service's today: Shanghai's
    late = (today + dt.timedelta(days=91)).isoformat()
    response = create(api, cast.cathy, complaint.number, due=late)

    assert response.status_code == 422
    assert "90" in response.json()["error"]["fields"]["due"][0]
    assert not Order.objects.exists()
    last = (today + dt.timedelta(days=90)).isoformat()
    assert create(api, cast.cathy, complaint.number, due=last).status_code == 201


def test_a_given_due_date_is_kept(api, cast, complaint):
    due = (dt.date.today() + dt.timedelta(days=20)).isoformat()
    assert create(api, cast.cathy, complaint.number, due=due).json()["due"] == due


def test_a_retry_with_the_same_idempotency_key_returns_the_first_order(api, cast, complaint):
    key = {"HTTP_IDEMPOTENCY_KEY": "k-1"}
    first = create(api, cast.cathy, complaint.number, headers=key)
    retry = create(api, cast.cathy, complaint.number, headers=key)
    other = api.as_user(cast.cathy).post_json(
        "/api/v1/supervision/orders",
        {"case": complaint.number, "instructions": "别的要求"},
        HTTP_IDEMPOTENCY_KEY="k-1",
    )

    assert (first.status_code, retry.status_code) == (201, 201)
    assert first.json()["id"] == retry.json()["id"]
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_mismatch"  # as the case endpoints say
    assert Order.objects.count() == 1


def test_a_closed_case_cannot_be_supervised_by_hand(api, cast, complaint):
    act(complaint, "reject", by=cast.ken, on=dt.date(2026, 6, 2), ground="out_of_scope", reason="x")
    assert create(api, cast.cathy, complaint.number).status_code == 403


def test_the_supervise_action_of_the_case_api_issues_the_same_order(api, cast, complaint):
    """One path: the workflow's `supervise` action and the orders endpoint both make an order."""
    response = api.as_user(cast.cathy).post_json(
        f"/api/v1/cases/{complaint.number}/actions",
        {"action": "supervise", "instructions": "请尽快受理。"},
    )

    assert response.status_code == 200
    order = Order.objects.get()
    assert (order.kind, order.from_department_id, order.to_department_id) == (
        OrderKind.MANUAL,
        "330100",
        "330106",
    )
    event = CaseEvent.objects.get(case=complaint, action="supervise")
    assert event.data["order"] == order.pk
    listed = api.as_user(cast.ken).get("/api/v1/supervision/orders").json()
    assert [o["id"] for o in listed["results"]] == [order.pk]


@pytest.mark.parametrize("page", ["99999999999999999999", "1000001", "0"])
def test_an_absurd_page_number_is_a_422(api, cast, page):
    response = api.as_user(cast.ken).get(f"/api/v1/supervision/orders?page={page}")
    assert response.status_code == 422


def test_a_large_but_possible_page_is_empty(api, cast):
    response = api.as_user(cast.ken).get("/api/v1/supervision/orders?page=1000")
    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize("instructions", ["\u202e", "\u200b\u200e \ufeff", "\t\n"])
def test_instructions_with_nothing_visible_are_422(api, cast, complaint, instructions):
    response = create(api, cast.cathy, complaint.number, instructions=instructions)

    assert response.status_code == 422
    assert "instructions" in response.json()["error"]["fields"]
    assert not Order.objects.exists()


def test_visible_text_keeps_its_inner_marks():
    assert clean_text("  \u200b请\u200d处理 ") == "\u200b请\u200d处理"
    assert clean_text("\u202e\u2028\u3000") == ""
