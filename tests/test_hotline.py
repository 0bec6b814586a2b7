"""The hotline desk through HTTP: a 12315 agent files a call, a letter or a visit for the caller.

Every denial has its success twin, so a broken fixture cannot make a denial pass.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, User
from cases.models import Case, Channel, ClockKind, Kind
from cases.rules import local_date
from workdays.calendar import add_working_days

pytestmark = pytest.mark.django_db

DESK = "/staff/hotline/"
MINUTE = "%Y-%m-%dT%H:%M"


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def token_of(response) -> str:
    match = re.search(r'name="token" value="([^"]+)"', response.content.decode())
    assert match, "no form token on the page"
    return match.group(1)


def local_minute(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime(MINUTE)


def call(token: str, **overrides: Any) -> dict[str, Any]:
    """A complaint taken by phone just now, as the desk's form sends it."""
    data: dict[str, Any] = {
        "token": token,
        "op": "file",
        "kind": Kind.COMPLAINT,
        "channel": Channel.HOTLINE,
        "received_at": local_minute(timezone.now()),
        "caller_name": "王来电",
        "caller_phone": "13900000099",
        "caller_address": "杭州市西湖区文一路1号",
        "respondent_name": "杭州好运来电器有限公司",
        "respondent_uscc": "",
        "respondent_address": "杭州市西湖区文三路90号",
        "online": "no",
        "platform_name": "",
        "platform_address": "",
        "department": "",
        "department_code": "330106",
        "category": "",
        "amount": "1999.00",
        "occurred_on": "",
        "facts": "购买的洗衣机第二天就漏水，商家拒绝退货。",
        "demand": "退货退款",
        "question": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def hank(cast) -> Client:
    return signed_in(cast.hank)


@pytest.fixture
def token(hank) -> str:
    return token_of(hank.get(DESK))


# --- who may use it ---------------------------------------------------------------------------


def test_the_desk_is_at_its_named_url_and_open_to_a_hotline_agent(hank):
    assert reverse("staff:hotline") == DESK
    response = hank.get(DESK)
    assert response.status_code == 200
    body = response.content.decode()
    assert "12315来电登记" in body
    assert 'name="token"' in body


def test_an_intake_officer_without_the_hotline_role_is_refused(cast):
    assert signed_in(cast.ken).get(DESK).status_code == 403
    assert signed_in(cast.ken).post(DESK, call("k-1")).status_code == 403
    assert not Case.objects.exists()


def test_a_consumer_is_refused(cast):
    assert signed_in(cast.alice).get(DESK).status_code == 403
    assert signed_in(cast.alice).post(DESK, call("a-1")).status_code == 403
    assert not Case.objects.exists()


def test_an_anonymous_visitor_is_sent_to_sign_in(cast):
    response = Client().get(DESK)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_workbench_header_links_the_desk_for_agents_only(cast, hank):
    agents_queue = hank.get(reverse("staff:home"))
    officers_queue = signed_in(cast.ken).get(reverse("staff:home"))
    assert agents_queue.status_code == officers_queue.status_code == 200
    assert f'href="{DESK}"' in agents_queue.content.decode()
    assert f'href="{DESK}"' not in officers_queue.content.decode()


def test_an_agent_with_the_role_in_one_of_several_memberships_gets_in(cast, tree):
    Membership.objects.create(user=cast.ken, department=tree.neighbour, roles=["hotline"])
    ken = signed_in(cast.ken)
    assert ken.get(DESK).status_code == 200
    home = ken.get(reverse("staff:home")).content.decode()
    assert home.count(f'href="{DESK}"') == 1


# --- filing -------------------------------------------------------------------------------------


def test_a_phone_complaint_received_two_days_ago_is_filed_for_the_caller(cast, hank, token):
    received = timezone.now() - dt.timedelta(days=2)
    response = hank.post(DESK, call(token, received_at=local_minute(received)))

    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("staff:case", kwargs={"number": case.number})
    assert case.kind == Kind.COMPLAINT
    assert case.channel == Channel.HOTLINE
    assert case.consumer is None
    assert case.created_by == cast.hank
    assert (case.party_name, case.party_phone, case.party_address) == (
        "王来电",
        "13900000099",
        "杭州市西湖区文一路1号",
    )
    assert case.department.code == "330106"
    assert local_date(case.received_at) == local_date(received)
    accept = case.deadlines.get(kind=ClockKind.ACCEPT)
    assert accept.due == add_working_days(local_date(received), 7)


def test_the_case_page_after_filing_shows_the_number_and_the_accept_deadline(hank, token):
    response = hank.post(DESK, call(token), follow=True)

    case = Case.objects.get()
    due = case.deadlines.get(kind=ClockKind.ACCEPT).due
    body = response.content.decode()
    assert response.status_code == 200
    assert f"已登记投诉，编号 {case.number}，受理期限至 {due.isoformat()}。" in body


def test_a_report_received_by_letter_is_filed_with_the_letter_channel(hank, token):
    data = call(
        token,
        kind=Kind.REPORT,
        channel=Channel.LETTER,
        respondent_name="西湖无证餐馆",
        respondent_address="杭州市西湖区天目山路5号",
        facts="无证经营，后厨卫生很差。",
        demand="",
        notify_me="on",
    )
    response = hank.post(DESK, data)

    case = Case.objects.get()
    assert response.status_code == 302
    assert case.kind == Kind.REPORT
    assert case.channel == Channel.LETTER
    assert case.notify_me is True
    assert case.respondent_name == "西湖无证餐馆"
    assert case.consumer is None


def test_a_consultation_needs_only_the_caller_department_and_question(hank, token):
    data = call(
        token,
        kind=Kind.CONSULTATION,
        channel=Channel.VISIT,
        caller_address="",
        respondent_name="",
        respondent_address="",
        facts="",
        demand="",
        question="预付卡商家跑路了，可以向哪里反映？",
    )
    response = hank.post(DESK, data)

    case = Case.objects.get()
    assert response.status_code == 302
    assert case.kind == Kind.CONSULTATION
    assert case.channel == Channel.VISIT
    assert case.facts == "预付卡商家跑路了，可以向哪里反映？"
    assert case.deadlines.filter(kind=ClockKind.ANSWER).exists()


def test_a_future_receipt_time_is_refused_next_to_it_and_nothing_is_filed(hank, token):
    later = local_minute(timezone.now() + dt.timedelta(hours=3))
    response = hank.post(DESK, call(token, received_at=later))

    assert response.status_code == 422
    assert not Case.objects.exists()
    assert response.context["form"].errors["received_at"] == ["受理时间不能晚于当前时间。"]
    assert f'value="{later}"' in response.content.decode()


def test_a_missing_caller_phone_is_named_next_to_it_and_the_typed_values_stay(hank, token):
    response = hank.post(DESK, call(token, caller_phone=""))

    assert response.status_code == 422
    assert not Case.objects.exists()
    assert response.context["form"].errors["caller_phone"] == ["请填写电话。"]
    body = response.content.decode()
    assert 'value="王来电"' in body
    assert "购买的洗衣机第二天就漏水" in body
    assert f'name="token" value="{token}"' in body


def test_shape_and_intake_problems_are_shown_together(hank, token):
    response = hank.post(DESK, call(token, amount="很多", caller_phone="", demand=""))

    errors = response.context["form"].errors
    assert response.status_code == 422
    assert errors["amount"] == ["请填写数字，例如 199.00。"]
    assert errors["caller_phone"] == ["请填写电话。"]
    assert errors["demand"] == ["请填写诉求。"]
    assert not Case.objects.exists()


def test_a_platform_purchase_names_the_platform(hank, token):
    response = hank.post(DESK, call(token, online="yes", platform_name="某某商城"))

    assert response.status_code == 422
    assert response.context["form"].errors["platform_address"] == ["在平台上购买的，请填写此项。"]
    assert not Case.objects.exists()

    response = hank.post(
        DESK,
        call(
            token, online="yes", platform_name="某某商城", platform_address="杭州市上城区解放路1号"
        ),
    )
    case = Case.objects.get()
    assert (case.platform_name, case.platform_address) == ("某某商城", "杭州市上城区解放路1号")


def test_a_county_level_department_is_required(hank, token):
    response = hank.post(DESK, call(token, department_code="330106001"))

    assert response.status_code == 422
    assert response.context["form"].errors["department"] == ["请选择县级（区县）市场监管部门。"]
    assert not Case.objects.exists()


def test_sending_the_same_form_twice_files_one_case(hank, token):
    first = hank.post(DESK, call(token))
    second = hank.post(DESK, call(token))

    case = Case.objects.get()
    assert first["Location"] == second["Location"] == f"/staff/cases/{case.number}/"


def test_a_reused_form_with_other_content_files_nothing_new(hank, token):
    hank.post(DESK, call(token))
    response = hank.post(DESK, call(token, demand="赔偿"), follow=True)

    case = Case.objects.get()
    assert case.demand == "退货退款"
    assert f"这张登记表已提交过（编号 {case.number}）" in response.content.decode()


def test_a_form_without_its_token_is_shown_again_with_a_fresh_one(hank):
    response = hank.post(DESK, call(""))

    assert response.status_code == 422
    assert not Case.objects.exists()
    assert "登记表已过期" in response.content.decode()
    assert token_of(response)


def test_a_case_filed_with_another_county_brings_the_agent_back_to_the_desk(hank, token):
    response = hank.post(
        DESK,
        call(token, department_code="330102", respondent_address="杭州市上城区解放路1号"),
        follow=True,
    )

    case = Case.objects.get()
    assert case.department.code == "330102"
    assert response.redirect_chain[-1][0] == DESK
    assert f"编号 {case.number}" in response.content.decode()


# --- department suggestions -------------------------------------------------------------------


def test_looking_up_the_department_suggests_the_respondents_county_and_files_nothing(hank, token):
    data = call(token, op="lookup", department_code="", caller_phone="")
    response = hank.post(DESK, data)

    body = response.content.decode()
    assert response.status_code == 200
    assert not Case.objects.exists()
    assert 'name="department" id="hl-unit-1" value="330106" checked' in body
    assert "西湖区（" in body
    assert "经营者所在地" in body
    assert "请填写电话" not in body  # a lookup checks nothing
    assert 'value="王来电"' in body
    assert f'name="token" value="{token}"' in body


def test_a_typed_code_that_is_suggested_stays_chosen_after_a_lookup(hank, token):
    data = call(token, op="lookup", respondent_address="杭州市上城区解放路1号")
    body = hank.post(DESK, data).content.decode()

    assert 'value="330102" checked autofocus' not in body
    assert 'id="hl-unit-other" value="other" checked autofocus' in body  # 330106 was typed

    data = call(token, op="lookup", department_code="330102", department="other")
    body = hank.post(DESK, data).content.decode()
    assert 'id="hl-unit-other" value="other" checked' in body

    data = call(token, op="lookup")  # 330106 typed, and suggested
    body = hank.post(DESK, data).content.decode()
    assert 'id="hl-unit-1" value="330106" checked autofocus' in body


def test_a_suggested_department_can_be_chosen_and_filed(hank, token):
    response = hank.post(DESK, call(token, department="330106", department_code=""))

    assert response.status_code == 302
    assert Case.objects.get().department.code == "330106"


def test_a_platform_purchase_also_suggests_the_platforms_county(hank, token):
    data = call(
        token,
        op="lookup",
        online="yes",
        platform_name="某某商城",
        platform_address="杭州市上城区解放路1号",
    )
    body = hank.post(DESK, data).content.decode()

    assert 'value="330106"' in body
    assert 'value="330102"' in body
    assert "第三方平台所在地" in body


def test_an_unrecognised_address_says_so_and_keeps_the_code_input(hank, token):
    data = call(token, op="lookup", respondent_address="火星基地一号")
    body = hank.post(DESK, data).content.decode()

    assert "无法从地址中识别区县" in body
    assert 'name="department_code"' in body


def test_looking_up_without_an_address_asks_for_one(hank, token):
    data = call(token, op="lookup", respondent_address="")
    body = hank.post(DESK, data).content.decode()

    assert "请先填写经营者地址" in body
    assert not Case.objects.exists()
