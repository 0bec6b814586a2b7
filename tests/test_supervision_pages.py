"""The supervision pages: inbox and outbox, the case's supervision page, the dashboard and the case
lists behind its numbers. Each refusal has its success twin."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from supervision.models import AlertPreference, OrderKind, OrderStatus
from supervision.models import SupervisionOrder as Order
from supervision.sweeps import sweep_deadlines
from tests.test_supervision_factories import act, file_complaint


@pytest.fixture
def complaint(cast):
    return file_complaint(cast.hank)


@pytest.fixture
def order(complaint):
    sweep_deadlines(today=dt.date(2026, 6, 11))
    return Order.objects.get()


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- inbox and outbox -------------------------------------------------------------------------


def test_the_county_inbox_lists_the_order_with_an_answer_form(cast, order, complaint):
    page = text(client_for(cast.ken).get("/supervision/"))

    assert complaint.number in page
    assert "杭州市" in page and "待答复：1 件" in page
    assert f'action="/supervision/orders/{order.pk}/respond/"' in page
    assert f'<label for="order-{order.pk}-note">答复内容' in page


def test_the_neighbouring_county_inbox_is_empty(cast, order, complaint):
    page = text(client_for(cast.nick).get("/supervision/"))

    assert complaint.number not in page
    assert "待答复：0 件" in page


def test_answering_from_the_inbox(cast, order):
    response = client_for(cast.ken).post(
        f"/supervision/orders/{order.pk}/respond/", {"note": "已受理。"}, follow=True
    )

    assert response.status_code == 200
    assert "已答复督办单" in text(response)
    order.refresh_from_db()
    assert (order.status, order.response, order.responded_by) == ("answered", "已受理。", cast.ken)


def test_an_empty_answer_shows_the_form_again_with_its_error(cast, order):
    response = client_for(cast.ken).post(f"/supervision/orders/{order.pk}/respond/", {"note": ""})

    assert response.status_code == 422
    assert "这个字段是必填项" in text(response)
    order.refresh_from_db()
    assert order.status == OrderStatus.OPEN


def test_another_unit_cannot_answer_from_the_web(cast, order):
    response = client_for(cast.nick).post(f"/supervision/orders/{order.pk}/respond/", {"note": "x"})
    assert response.status_code == 404
    order.refresh_from_db()
    assert order.status == OrderStatus.OPEN


def test_the_city_outbox_lists_what_it_issued(cast, order, complaint):
    page = text(client_for(cast.cathy).get("/supervision/outbox/?status=all"))

    assert complaint.number in page and "超期督办" in page
    assert "全部：1 件" in page


def test_a_consumer_has_no_supervision_pages(cast, order):
    client = client_for(cast.alice)
    assert client.get("/supervision/").status_code == 403
    assert client.get("/supervision/dashboard/").status_code == 403


def test_signed_out_users_are_sent_to_log_in(db):
    response = Client().get("/supervision/dashboard/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_staff_turn_supervision_sms_off(cast):
    client_for(cast.ken).post("/supervision/preferences/", {})

    assert AlertPreference.objects.get(user=cast.ken).by_sms is False


# --- the supervision page of a case -----------------------------------------------------------


def test_a_city_supervisor_issues_an_order_from_the_case_page(cast, complaint):
    client = client_for(cast.cathy)
    page = text(client.get(f"/supervision/cases/{complaint.number}/order/"))
    assert "以杭州市名义督办西湖区" in page

    response = client.post(
        f"/supervision/cases/{complaint.number}/order/",
        {"instructions": "请于三日内受理并回复。", "form_token": "t-1"},
        follow=True,
    )

    assert "督办单已发出" in text(response)
    order = Order.objects.get()
    assert (order.kind, order.from_department_id, order.to_department_id) == (
        OrderKind.MANUAL,
        "330100",
        "330106",
    )


def test_a_double_submitted_order_form_issues_one_order(cast, complaint):
    client = client_for(cast.cathy)
    form = {"instructions": "请于三日内受理并回复。", "form_token": "t-2"}

    client.post(f"/supervision/cases/{complaint.number}/order/", form)
    client.post(f"/supervision/cases/{complaint.number}/order/", form)

    assert Order.objects.count() == 1


def test_the_case_page_is_404_outside_my_subtree(cast, complaint):
    client = client_for(cast.nick)
    assert client.get(f"/supervision/cases/{complaint.number}/order/").status_code == 404
    response = client.post(
        f"/supervision/cases/{complaint.number}/order/", {"instructions": "x", "form_token": "t"}
    )
    assert response.status_code == 404
    assert not Order.objects.exists()


def test_the_unit_holding_the_case_sees_its_supervision_but_cannot_issue(cast, complaint):
    client = client_for(cast.helen)
    page = text(client.get(f"/supervision/cases/{complaint.number}/order/"))
    assert "发出督办单</button>" not in page
    assert "只有承办单位的上级部门" in page

    response = client.post(
        f"/supervision/cases/{complaint.number}/order/", {"instructions": "x", "form_token": "t"}
    )

    assert response.status_code == 403
    assert not Order.objects.exists()


def test_a_supervisor_starts_tracking_from_the_case_page(cast, complaint):
    act(complaint, "accept", by=cast.ken, on=dt.date(2026, 6, 2))

    response = client_for(cast.paul).post(
        f"/supervision/cases/{complaint.number}/tracking/",
        {"every_n_working_days": "5"},
        follow=True,
    )

    assert "开始跟踪督办" in text(response)
    order = Order.objects.get()
    assert (order.kind, order.from_department_id) == (OrderKind.TRACKING, "330000")


def test_a_bad_tracking_period_is_shown_on_the_form(cast, complaint):
    response = client_for(cast.cathy).post(
        f"/supervision/cases/{complaint.number}/tracking/", {"every_n_working_days": "0"}
    )
    assert response.status_code == 422
    assert not Order.objects.exists()


# --- the dashboard ----------------------------------------------------------------------------


def dashboard(user, path="/supervision/dashboard/", query="?from=2026-06-01&to=2026-06-30"):
    return client_for(user).get(path + query)


def test_the_city_dashboard_shows_its_numbers_children_and_overdue_cases(cast, order, complaint):
    page = text(dashboard(cast.cathy))

    assert "杭州市辖区实时监测" in page
    number = re.search(r"<dt>登记总数</dt> <dd><a href=\"([^\"]+)\">(\d+)</a></dd>", page)
    assert number is not None and number.group(2) == "1"
    assert "metric=received" in number.group(1)
    overdue = re.search(r"<dt>已超期</dt> <dd><a href=\"[^\"]+\">(\d+)</a></dd>", page)
    assert overdue is not None and overdue.group(1) == "1"
    assert 'href="/supervision/dashboard/330106/?from=2026-06-01&amp;to=2026-06-30">西湖区' in page
    assert f'href="/staff/cases/{complaint.number}/"' in page
    assert f'href="/supervision/cases/{complaint.number}/order/"' in page
    assert 'src="/static/vendor/echarts/echarts.min.js"' in page
    assert 'id="dashboard-charts"' in page


def test_my_own_dashboard_is_the_default(cast):
    assert "西湖区辖区实时监测" in text(dashboard(cast.ken, query=""))


def test_a_child_dashboard_is_open_to_the_parent_and_404_to_the_neighbour(cast):
    assert dashboard(cast.cathy, "/supervision/dashboard/330106/").status_code == 200
    assert dashboard(cast.nick, "/supervision/dashboard/330106/").status_code == 404
    assert dashboard(cast.cathy, "/supervision/dashboard/330000/").status_code == 404


@pytest.mark.parametrize(
    "path", ["/supervision/dashboard/", "/supervision/dashboard/330100/cases/?metric=received&"]
)
def test_a_date_the_calendar_cannot_reach_is_reported_not_a_500(cast, path):
    page, query = path.split("?") if "?" in path else (path, "")
    response = dashboard(cast.cathy, page, query=f"?{query}from=0001-01-01&to=0001-01-01")

    assert response.status_code in (200, 422)
    assert "日期应在 1900-01-01 至 9999-12-30 之间" in text(response)


def test_a_reversed_period_is_reported_and_the_default_shown(cast):
    response = dashboard(cast.cathy, query="?from=2026-06-30&to=2026-06-01")

    assert response.status_code == 200
    assert "开始日期不能晚于结束日期" in text(response)


def test_the_child_table_sorts_by_overdue_descending(cast, order):
    page = text(dashboard(cast.cathy, query="?from=2026-06-01&to=2026-06-30&sort=-overdue"))

    assert page.index(">西湖区</a>") < page.index(">上城区</a>")
    assert 'aria-sort="descending"' in page
    by_code = text(dashboard(cast.cathy, query="?sort=code"))
    assert by_code.index(">上城区</a>") < by_code.index(">西湖区</a>")


def test_the_number_links_to_the_cases_behind_it(cast, order, complaint):
    client = client_for(cast.cathy)
    overdue = text(client.get("/supervision/dashboard/330100/cases/?metric=overdue"))
    received = text(
        client.get(
            "/supervision/dashboard/330102/cases/?metric=received&from=2026-06-01&to=2026-06-30"
        )
    )

    assert complaint.number in overdue and "共 1 件" in overdue
    assert complaint.number not in received and "共 0 件" in received


def test_an_unknown_metric_is_404(cast):
    client = client_for(cast.cathy)
    assert client.get("/supervision/dashboard/330100/cases/?metric=nope").status_code == 404
    assert (
        client.get("/supervision/dashboard/330100/cases/?metric=open&value=closed").status_code
        == 404
    )
