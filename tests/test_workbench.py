"""The staff workbench through HTTP: who gets in, the queues and their counts, filters in the URL,
the membership switcher, the case page and the actions it posts.

Every denial has its success twin, so a broken fixture cannot make a denial pass.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from accounts.models import Membership, User
from cases import evidence
from cases.deadlines import today
from cases.intake import submit_case
from cases.models import Case, Deadline, Kind, Status
from cases.services import perform
from supervision.rollups import rebuild_rollups
from tests.clocks import set_clocks
from workbench.selectors import COUNT_CAP
from workdays.calendar import add_working_days

pytestmark = pytest.mark.django_db

HOME = "/staff/"


def complaint(by: User, **overrides: Any) -> Case:
    payload: dict[str, Any] = {
        "department": "330106",
        "contact_address": "杭州市西湖区文一路1号",
        "respondent": {"name": "杭州好运来电器有限公司", "address": "杭州市西湖区文三路90号"},
        "category": "G01",
        "amount": "1999.00",
        "facts": "购买的洗衣机第二天就漏水，商家拒绝退货。",
        "demand": "退货退款",
    }
    payload.update(overrides)
    return submit_case(kind=Kind.COMPLAINT, by=by, payload=payload)


def report(by: User, **overrides: Any) -> Case:
    payload: dict[str, Any] = {
        "department": "330106",
        "contact_address": "杭州市西湖区文一路1号",
        "respondent": {"name": "西湖无证餐馆", "address": "杭州市西湖区天目山路5号"},
        "facts": "无证经营，后厨卫生很差。",
    }
    payload.update(overrides)
    return submit_case(kind=Kind.REPORT, by=by, payload=payload)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def queue_numbers(response) -> list[str]:
    """The case numbers of the table rows, in order."""
    body = response.content.decode()
    return re.findall(r'href="/staff/cases/([A-Z0-9]+)/"', body)


def tab_count(response, label: str) -> int:
    body = response.content.decode()
    match = re.search(re.escape(label) + r'\s*<span class="wb-count">(\d+)</span>', body)
    assert match, f"no tab {label}"
    return int(match.group(1))


def refreshed(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


def act(client: Client, case: Case, action: str, **params: Any):
    data = {"action": action, "version": refreshed(case).version, **params}
    return client.post(reverse("staff:act", args=[case.number]), data)


# --- who gets in ------------------------------------------------------------------------------


def test_a_consumer_is_refused_the_workbench_and_an_officer_is_let_in(cast):
    assert signed_in(cast.alice).get(HOME).status_code == 403
    assert signed_in(cast.ken).get(HOME).status_code == 200


def test_an_anonymous_visitor_is_sent_to_log_in(cast):
    response = Client().get(HOME)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_consumer_gets_404_on_the_staff_case_page_of_her_own_case_and_ken_gets_it(cast):
    case = complaint(cast.alice)
    url = reverse("staff:case", args=[case.number])
    assert signed_in(cast.alice).get(url).status_code == 404
    assert signed_in(cast.ken).get(url).status_code == 200


def test_an_officer_of_the_neighbouring_county_gets_404_on_a_west_lake_case(cast):
    case = complaint(cast.alice)
    url = reverse("staff:case", args=[case.number])
    assert signed_in(cast.nick).get(url).status_code == 404
    assert signed_in(cast.helen).get(url).status_code == 200


def test_a_consumer_cannot_post_an_action(cast):
    case = complaint(cast.alice)
    response = act(signed_in(cast.alice), case, "accept")
    assert response.status_code == 404
    assert refreshed(case).status == Status.SUBMITTED


# --- queues and counts ------------------------------------------------------------------------


def test_ken_sees_west_lake_cases_to_accept_and_nick_sees_none_of_them(cast):
    first, second = complaint(cast.alice), complaint(cast.bob)
    mine = signed_in(cast.ken).get(HOME)
    assert tab_count(mine, "待受理") == 2
    assert set(queue_numbers(mine)) == {first.number, second.number}

    theirs = signed_in(cast.nick).get(HOME)
    assert tab_count(theirs, "待受理") == 0
    assert queue_numbers(theirs) == []
    assert first.number not in theirs.content.decode()


def test_the_city_supervisor_counts_the_county_backlog_but_has_nothing_to_accept_herself(cast):
    case = complaint(cast.alice)
    cathy = signed_in(cast.cathy)
    page = cathy.get(reverse("staff:queue", args=["to-accept"]))
    assert tab_count(page, "待受理") == 0
    assert queue_numbers(page) == []
    perform(case, "accept", by=cast.ken)
    in_hand = cathy.get(reverse("staff:queue", args=["in-hand"]))
    assert tab_count(in_hand, "办理中") == 1
    assert queue_numbers(in_hand) == [case.number]


def test_a_case_diverted_to_a_station_is_in_the_station_handlers_hands(cast, tree):
    case = complaint(cast.alice)
    sam = signed_in(cast.sam)
    assert queue_numbers(sam.get(reverse("staff:queue", args=["in-hand"]))) == []

    perform(case, "accept", by=cast.ken, handler_unit=tree.station.code)

    page = sam.get(reverse("staff:queue", args=["in-hand"]))
    assert tab_count(page, "办理中") == 1
    assert queue_numbers(page) == [case.number]
    assert "西湖区文新市场监管所" in page.content.decode()
    assert tab_count(page, "待受理") == 0


def test_a_case_the_county_handles_itself_is_not_in_a_stations_queue(cast):
    case = complaint(cast.alice)
    perform(case, "accept", by=cast.ken)
    assert queue_numbers(signed_in(cast.sam).get(reverse("staff:queue", args=["in-hand"]))) == []
    assert queue_numbers(signed_in(cast.ken).get(reverse("staff:queue", args=["in-hand"]))) == [
        case.number
    ]


def test_due_soon_and_overdue_queues_follow_the_open_deadlines(cast):
    late, soon, later = complaint(cast.alice), complaint(cast.alice), complaint(cast.bob)
    day = today()
    set_clocks(Deadline.objects.filter(case=late), due=day - dt.timedelta(days=1))
    set_clocks(Deadline.objects.filter(case=soon), due=add_working_days(day, 2))
    set_clocks(Deadline.objects.filter(case=later), due=add_working_days(day, 3))
    ken = signed_in(cast.ken)

    overdue = ken.get(reverse("staff:queue", args=["overdue"]))
    assert tab_count(overdue, "已超期") == 1
    assert queue_numbers(overdue) == [late.number]
    assert "badge--overdue" in overdue.content.decode()

    due_soon = ken.get(reverse("staff:queue", args=["due-soon"]))
    assert tab_count(due_soon, "即将到期") == 1
    assert queue_numbers(due_soon) == [soon.number]


def test_a_met_deadline_leaves_the_overdue_queue(cast):
    case = complaint(cast.alice)
    set_clocks(Deadline.objects.filter(case=case), due=today() - dt.timedelta(days=3))
    ken = signed_in(cast.ken)
    assert tab_count(ken.get(HOME), "已超期") == 1
    perform(case, "accept", by=cast.ken)
    set_clocks(
        Deadline.objects.filter(case=case, met_at__isnull=True), due=add_working_days(today(), 9)
    )
    assert tab_count(ken.get(HOME), "已超期") == 0


def test_the_sweeps_flags_count_too(cast):
    flagged, moved_on = complaint(cast.alice), complaint(cast.bob)
    # Flagged due soon by the sweep, then paused: due soon by its flag alone.
    set_clocks(
        Deadline.objects.filter(case=flagged),
        due=add_working_days(today(), 1),
        paused_since=today(),
        due_soon=True,
    )
    # Flagged, then its date moved past the window (the next sweep clears the flag): not due soon.
    set_clocks(
        Deadline.objects.filter(case=moved_on), due=add_working_days(today(), 5), due_soon=True
    )
    page = signed_in(cast.ken).get(reverse("staff:queue", args=["due-soon"]))
    assert queue_numbers(page) == [flagged.number]
    assert tab_count(page, "即将到期") == 1


def test_closed_cases_are_in_the_closed_queue(cast):
    rejected, open_case = complaint(cast.alice), complaint(cast.bob)
    perform(rejected, "reject", by=cast.ken, ground="out_of_scope", reason="不属于职责范围")
    page = signed_in(cast.ken).get(reverse("staff:queue", args=["closed"]))
    assert tab_count(page, "已办结") == 1
    assert queue_numbers(page) == [rejected.number]
    assert open_case.number not in queue_numbers(page)
    assert "不予受理" in page.content.decode()


def test_an_unknown_queue_is_404_and_a_known_one_200(cast):
    ken = signed_in(cast.ken)
    assert ken.get("/staff/queue/everything/").status_code == 404
    assert ken.get("/staff/queue/closed/").status_code == 200


def test_the_queue_page_costs_the_same_number_of_queries_for_many_rows(cast):
    ken = signed_in(cast.ken)
    complaint(cast.alice)
    ken.get(HOME)  # warm the session and the calendar
    with CaptureQueriesContext(connection) as few:
        ken.get(HOME)
    for _ in range(4):
        complaint(cast.bob)
    with CaptureQueriesContext(connection) as many:
        response = ken.get(HOME)
    assert len(queue_numbers(response)) == 5
    assert len(many) == len(few)
    sqls = [q["sql"] for q in many.captured_queries]
    counts = [sql for sql in sqls if sql.startswith("SELECT COUNT(")]
    counters = [sql for sql in sqls if "supervision_rollup" in sql]
    # The status queues from one read of the counters; one count of the cases handled
    # elsewhere for every queue, one of the county's open cases for the deadline queues.
    assert len(counters) == 1
    assert len(counts) == 2
    assert not any(f"LIMIT {COUNT_CAP + 1}" in sql for sql in counts)


# --- filters, sort, pagination in the URL -----------------------------------------------------


def test_filters_by_kind_and_search_are_kept_in_the_tab_links(cast):
    washer = complaint(cast.alice)
    tip = report(cast.bob)
    ken = signed_in(cast.ken)

    reports = ken.get(HOME, {"kind": "report"})
    assert queue_numbers(reports) == [tip.number]
    assert tab_count(reports, "待受理") == 1
    assert 'href="/staff/queue/in-hand/?kind=report"' in reports.content.decode()

    by_name = ken.get(HOME, {"q": "好运来"})
    assert queue_numbers(by_name) == [washer.number]
    by_number = ken.get(HOME, {"q": tip.number.lower()})
    assert queue_numbers(by_number) == [tip.number]
    by_facts = ken.get(HOME, {"q": "后厨"})
    assert queue_numbers(by_facts) == [tip.number]


def test_filter_by_received_date_range(cast):
    old, new = complaint(cast.alice), complaint(cast.bob)
    Case.objects.filter(pk=old.pk).update(
        received_at=dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC)  # 2 March in Shanghai
    )
    ken = signed_in(cast.ken)
    march = ken.get(HOME, {"received_from": "2026-03-02", "received_to": "2026-03-02"})
    assert queue_numbers(march) == [old.number]
    since = ken.get(HOME, {"received_from": "2026-03-03"})
    assert queue_numbers(since) == [new.number]


def test_an_invalid_filter_is_shown_and_ignored(cast):
    case = complaint(cast.alice)
    response = signed_in(cast.ken).get(HOME, {"received_from": "not-a-date", "kind": "complaint"})
    assert response.status_code == 200
    assert queue_numbers(response) == [case.number]
    assert 'class="errorlist"' in response.content.decode()


def test_sorting_is_by_whitelisted_columns_only(cast):
    first, second = complaint(cast.alice), complaint(cast.bob)
    Case.objects.filter(pk=first.pk).update(respondent_name="甲商店")
    Case.objects.filter(pk=second.pk).update(respondent_name="乙商店")
    ken = signed_in(cast.ken)
    ascending = queue_numbers(ken.get(HOME, {"sort": "number"}))
    descending = queue_numbers(ken.get(HOME, {"sort": "-number"}))
    assert ascending == sorted([first.number, second.number])
    assert descending == list(reversed(ascending))
    injected = ken.get(HOME, {"sort": "party_phone"})
    assert injected.status_code == 200
    assert queue_numbers(injected) == [first.number, second.number]  # default: oldest first


def test_the_sorted_column_says_so_and_links_to_the_reverse_order(cast):
    complaint(cast.alice)
    body = signed_in(cast.ken).get(HOME, {"kind": "complaint", "sort": "received_at"})
    html = body.content.decode()
    assert 'aria-sort="ascending"' in html
    assert html.count('aria-sort="') == 1
    assert 'href="/staff/queue/to-accept/?kind=complaint&amp;sort=-received_at"' in html


def test_pagination_keeps_the_filters(cast, monkeypatch):
    monkeypatch.setattr("workbench.pages.PAGE_SIZE", 2)
    cases = [complaint(cast.alice) for _ in range(3)]
    ken = signed_in(cast.ken)
    first_page = ken.get(HOME, {"kind": "complaint", "sort": "number"})
    assert queue_numbers(first_page) == [c.number for c in cases[:2]]
    html = first_page.content.decode()
    assert 'href="?kind=complaint&amp;sort=number&amp;page=2"' in html
    second_page = ken.get(HOME, {"kind": "complaint", "sort": "number", "page": "2"})
    assert queue_numbers(second_page) == [cases[2].number]
    assert tab_count(second_page, "待受理") == 3


# --- the membership switcher ------------------------------------------------------------------


def test_a_user_with_two_memberships_switches_between_them(cast, tree):
    Membership.objects.create(user=cast.ken, department=tree.neighbour, roles=["intake"])
    west_lake = complaint(cast.alice)
    shangcheng = complaint(cast.bob, department="330102")
    ken = signed_in(cast.ken)

    default = ken.get(HOME)
    assert queue_numbers(default) == [west_lake.number]
    assert 'id="wb-membership"' in default.content.decode()

    other = Membership.objects.get(user=cast.ken, department=tree.neighbour)
    response = ken.post(reverse("staff:membership"), {"membership": other.pk, "next": HOME})
    assert response.status_code == 302
    assert response["Location"] == HOME
    switched = ken.get(HOME)
    assert queue_numbers(switched) == [shangcheng.number]
    assert "上城区" in switched.content.decode()


def test_nobody_switches_to_a_membership_that_is_not_theirs(cast):
    nicks = Membership.objects.get(user=cast.nick)
    kens = Membership.objects.get(user=cast.ken)
    ken = signed_in(cast.ken)
    assert ken.post(reverse("staff:membership"), {"membership": nicks.pk}).status_code == 403
    assert ken.post(reverse("staff:membership"), {"membership": kens.pk}).status_code == 302


def test_the_switcher_does_not_redirect_off_site(cast):
    kens = Membership.objects.get(user=cast.ken)
    response = signed_in(cast.ken).post(
        reverse("staff:membership"), {"membership": kens.pk, "next": "https://evil.example/"}
    )
    assert response["Location"] == HOME


# --- the case page ----------------------------------------------------------------------------


def action_forms(response) -> set[str]:
    return set(re.findall(r'name="action" value="([a-z_]+)"', response.content.decode()))


def test_the_intake_officer_gets_the_intake_forms_only(cast):
    case = complaint(cast.alice)
    page = signed_in(cast.ken).get(reverse("staff:case", args=[case.number]))
    assert action_forms(page) == {"accept", "reject", "transfer", "escalate", "dispute"}
    html = page.content.decode()
    assert "下一步：受理" in html  # the primary action
    assert 'value="330106001"' in html and "西湖区文新市场监管所" in html  # divert choices
    assert "不属于市场监督管理部门职责" in html  # a rejection ground of the case's rules


def test_the_city_supervisor_gets_supervision_forms_and_not_intake_ones(cast):
    case = complaint(cast.alice)
    page = signed_in(cast.cathy).get(reverse("staff:case", args=[case.number]))
    assert action_forms(page) == {"supervise", "mark_major"}


def test_the_county_head_has_no_action_on_a_new_complaint(cast):
    case = complaint(cast.alice)
    page = signed_in(cast.helen).get(reverse("staff:case", args=[case.number]))
    assert action_forms(page) == set()
    assert "您当前没有可对本案执行的操作" in page.content.decode()


def test_the_report_forms_follow_the_report_table(cast):
    tip = report(cast.bob)
    page = signed_in(cast.ken).get(reverse("staff:case", args=[tip.number]))
    assert action_forms(page) == {
        "accept", "transfer", "escalate", "dispute", "refer_out", "mark_duplicate",
    }  # fmt: skip


def test_the_handler_sees_the_phone_and_the_city_sees_it_masked(cast):
    case = complaint(cast.alice)
    url = reverse("staff:case", args=[case.number])
    assert "13800000001" in signed_in(cast.ken).get(url).content.decode()
    city = signed_in(cast.cathy).get(url).content.decode()
    assert "13800000001" not in city
    assert "张爱丽" in city


def test_the_case_page_lists_the_evidence_with_download_links(cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    case = complaint(cast.alice)
    png = SimpleUploadedFile("receipt.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image/png")
    attachment = evidence.store_upload(owner=cast.alice, uploaded_file=png, case=case)
    html = signed_in(cast.ken).get(reverse("staff:case", args=[case.number])).content.decode()
    assert "receipt.png" in html
    assert f'href="/files/{attachment.id}/"' in html or str(attachment.id) in html


def test_the_deadlines_show_their_state_in_words(cast):
    case = complaint(cast.alice)
    set_clocks(Deadline.objects.filter(case=case), due=today() - dt.timedelta(days=1))
    html = signed_in(cast.ken).get(reverse("staff:case", args=[case.number])).content.decode()
    assert "受理期限" in html
    assert "已超期" in html


# --- actions through the page -----------------------------------------------------------------


def test_accepting_and_diverting_through_the_page_hands_the_case_to_the_station(cast, tree):
    case = complaint(cast.alice)
    ken = signed_in(cast.ken)
    response = act(ken, case, "accept", handler_unit=tree.station.code)
    assert response.status_code == 302
    assert response["Location"] == reverse("staff:case", args=[case.number])
    case = refreshed(case)
    assert case.status == Status.ACCEPTED
    assert case.handler_unit_id == tree.station.code
    assert case.events.filter(action="accept", actor=cast.ken).exists()

    page = ken.get(response["Location"])
    assert "已完成：受理" in page.content.decode()

    sam = signed_in(cast.sam)
    assert queue_numbers(sam.get(reverse("staff:queue", args=["in-hand"]))) == [case.number]
    sams_page = sam.get(reverse("staff:case", args=[case.number]))
    assert action_forms(sams_page) == {"start_mediation", "terminate"}
    assert "下一步：开始调解" in sams_page.content.decode()


def test_a_stale_version_is_refused_with_the_message_and_the_input_kept(cast):
    case = complaint(cast.alice)
    ken = signed_in(cast.ken)
    stale = case.version
    perform(case, "mark_major", by=cast.cathy)  # someone else changes the case meanwhile
    response = ken.post(
        reverse("staff:act", args=[case.number]),
        {"action": "reject", "version": stale, "ground": "time_barred", "reason": "已超过三年"},
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "案件已被他人更新，请刷新后重试" in html
    assert "已超过三年" in html  # the reason typed is still there
    assert f'name="version" value="{refreshed(case).version}"' in html
    assert refreshed(case).status == Status.SUBMITTED

    retried = act(ken, case, "reject", ground="time_barred", reason="已超过三年")
    assert retried.status_code == 302
    assert refreshed(case).outcome == "rejected"


def test_a_missing_field_is_shown_on_the_form_with_the_input_kept(cast):
    case = complaint(cast.alice)
    response = act(signed_in(cast.ken), case, "reject", reason="材料不全")
    assert response.status_code == 422
    html = response.content.decode()
    assert "材料不全" in html
    assert 'class="errorlist"' in html
    assert '<details class="panel" open>' in html  # the failed form stays open
    assert refreshed(case).status == Status.SUBMITTED


def test_the_services_field_errors_come_back_onto_the_form(cast, tree):
    case = complaint(cast.alice)
    response = act(signed_in(cast.ken), case, "transfer", department="330106001", reason="管辖")
    assert response.status_code == 422
    html = response.content.decode()
    assert "应移送至另一个县级市场监管部门" in html
    assert 'value="330106001"' in html
    assert refreshed(case).department_id == tree.county.code


def test_transferring_to_another_county_through_the_page_hands_it_over(cast, tree):
    case = complaint(cast.alice)
    ken = signed_in(cast.ken)
    page = ken.get(reverse("staff:case", args=[case.number])).content.decode()
    assert 'list="units_transfer"' in page and '<option value="330102">' in page  # suggestions
    response = act(ken, case, "transfer", department="330102", reason="经营地在上城区")
    assert response.status_code == 302
    assert response["Location"] == HOME  # out of Ken's reach now
    assert refreshed(case).department_id == tree.neighbour.code
    assert queue_numbers(signed_in(cast.nick).get(HOME)) == [case.number]


def test_an_action_not_allowed_now_is_refused_with_a_message(cast):
    case = complaint(cast.alice)
    response = act(signed_in(cast.ken), case, "start_mediation", note="双方同意")
    assert response.status_code == 409
    assert "您不能执行此操作" in response.content.decode()
    assert refreshed(case).status == Status.SUBMITTED


def test_an_unknown_action_is_refused_with_a_message(cast):
    case = complaint(cast.alice)
    response = act(signed_in(cast.ken), case, "rate", satisfaction="5")
    assert response.status_code == 409
    assert refreshed(case).rated_at is None


def test_escalating_takes_the_case_out_of_the_countys_reach_and_to_the_city(cast, tree):
    case = complaint(cast.alice)
    response = act(signed_in(cast.ken), case, "escalate", reason="请市局指定管辖")
    assert response.status_code == 302
    assert response["Location"] == HOME
    cathy = signed_in(cast.cathy)
    assert queue_numbers(cathy.get(HOME)) == [case.number]
    html = cathy.get(reverse("staff:case", args=[case.number])).content.decode()
    assert "报请上级部门" in html
    assert "内部" in html  # the routing step is marked internal
    assert "请市局指定管辖" in html
    assert "dispatch" in action_forms(cathy.get(reverse("staff:case", args=[case.number])))


def test_mediation_to_agreement_through_the_page(cast, tree):
    case = complaint(cast.alice)
    perform(case, "accept", by=cast.ken, handler_unit=tree.station.code)
    sam = signed_in(cast.sam)
    assert act(sam, case, "start_mediation", note="双方同意调解").status_code == 302
    response = act(sam, case, "record_agreement", terms="退货退款", amount_recovered="1999.00")
    assert response.status_code == 302
    case = refreshed(case)
    assert (case.status, case.outcome) == (Status.CLOSED, "mediated")
    assert str(case.amount_recovered) == "1999.00"
    closed = sam.get(reverse("staff:queue", args=["closed"]))
    assert queue_numbers(closed) == [case.number]


def test_a_negative_amount_is_refused_by_the_form(cast, tree):
    case = complaint(cast.alice)
    perform(case, "accept", by=cast.ken, handler_unit=tree.station.code)
    perform(case, "start_mediation", by=cast.sam)
    response = act(
        signed_in(cast.sam), case, "record_agreement", terms="退款", amount_recovered="-1"
    )
    assert response.status_code == 422
    assert refreshed(case).status == Status.MEDIATING


def test_the_city_dispatches_an_escalated_case_to_a_county_through_the_page(cast, tree):
    case = complaint(cast.alice)
    perform(case, "escalate", by=cast.ken, reason="请市局指定管辖")
    cathy = signed_in(cast.cathy)
    page = cathy.get(reverse("staff:case", args=[case.number])).content.decode()
    assert '<option value="330102">上城区（330102）</option>' in page  # a select, not a code field
    response = act(cathy, case, "dispatch", department=tree.neighbour.code)
    assert response.status_code == 302
    assert refreshed(case).department_id == tree.neighbour.code
    assert queue_numbers(signed_in(cast.nick).get(HOME)) == [case.number]
    assert queue_numbers(signed_in(cast.ken).get(HOME)) == []


def test_the_head_decides_on_a_report_through_the_page(cast):
    tip = report(cast.bob)
    perform(tip, "accept", by=cast.ken)
    helen = signed_in(cast.helen)
    page = helen.get(reverse("staff:case", args=[tip.number]))
    assert action_forms(page) == {"extend", "decide"}
    assert action_forms(signed_in(cast.ken).get(reverse("staff:case", args=[tip.number]))) == {
        "pause"
    }
    response = act(helen, tip, "decide", decision="filed", note="涉嫌无证经营，予以立案。")
    assert response.status_code == 302
    assert refreshed(tip).outcome == "case_filed"


def test_a_consultation_is_answered_through_the_page(cast):
    question = submit_case(
        kind=Kind.CONSULTATION,
        by=cast.alice,
        payload={"department": "330106", "question": "退货期限？"},
    )
    ken = signed_in(cast.ken)
    assert action_forms(ken.get(reverse("staff:case", args=[question.number]))) == {
        "answer", "convert",
    }  # fmt: skip
    assert act(ken, question, "answer", answer="七日无理由退货。").status_code == 302
    assert refreshed(question).answer == "七日无理由退货。"


def test_a_paused_clock_is_not_overdue_until_it_runs_again(cast, tree):
    paused, running = complaint(cast.alice), complaint(cast.bob)
    for case in (paused, running):
        perform(case, "accept", by=cast.ken, handler_unit=tree.station.code)
        perform(case, "start_mediation", by=cast.sam)
    perform(paused, "pause", by=cast.sam, reason="送检")
    set_clocks(Deadline.objects.filter(kind="mediate"), due=today() - dt.timedelta(days=1))
    overdue = signed_in(cast.sam).get(reverse("staff:queue", args=["overdue"]))
    assert queue_numbers(overdue) == [running.number]


def test_every_level_up_to_the_national_one_lists_a_county_case_and_the_neighbour_does_not(cast):
    case = complaint(cast.alice)
    perform(case, "accept", by=cast.ken)
    for officer in (cast.ken, cast.cathy, cast.paul, cast.nora):
        page = signed_in(officer).get(reverse("staff:queue", args=["in-hand"]))
        assert tab_count(page, "办理中") == 1, officer
        assert queue_numbers(page) == [case.number], officer
    nick = signed_in(cast.nick).get(reverse("staff:queue", args=["in-hand"]))
    assert tab_count(nick, "办理中") == 0
    assert queue_numbers(nick) == []


def test_a_case_handled_in_the_subtree_but_held_elsewhere_is_counted_once(cast, tree):
    # A station moved to another county keeps handling the cases it had: they are held by the
    # old county and handled under the new one, and both subtrees count them.
    case = complaint(cast.alice)
    perform(case, "accept", by=cast.ken, handler_unit=tree.station.code)
    Case.objects.filter(pk=case.pk).update(department=tree.neighbour)
    rebuild_rollups()  # the update went past the services
    for officer in (cast.ken, cast.sam, cast.nick, cast.cathy):
        page = signed_in(officer).get(reverse("staff:queue", args=["in-hand"]))
        assert tab_count(page, "办理中") == 1, officer
        assert queue_numbers(page) == [case.number], officer
    other = signed_in(cast.nick).get(reverse("staff:queue", args=["to-accept"]))
    assert tab_count(other, "待受理") == 0


@pytest.mark.parametrize("small", [True, False])
def test_the_deadline_queues_are_the_same_however_the_clocks_are_found(cast, monkeypatch, small):
    # Small subtrees probe each case's clocks, large ones gather the late clocks first.
    monkeypatch.setattr("workbench.selectors.SMALL_SUBTREE_UNITS", 1000 if small else 0)
    late, flagged, soon, later = (complaint(cast.alice) for _ in range(4))
    paused = complaint(cast.bob)
    day = today()
    set_clocks(Deadline.objects.filter(case=late), due=day - dt.timedelta(days=1))
    # Flagged overdue by the sweep, then paused: late by its flag alone.
    set_clocks(
        Deadline.objects.filter(case=flagged),
        due=day - dt.timedelta(days=1),
        paused_since=day,
        overdue=True,
    )
    set_clocks(Deadline.objects.filter(case=soon), due=add_working_days(day, 1))
    set_clocks(Deadline.objects.filter(case=later), due=add_working_days(day, 3))
    set_clocks(
        Deadline.objects.filter(case=paused), due=day - dt.timedelta(days=2), paused_since=day
    )
    for officer in (cast.ken, cast.cathy, cast.nora):
        client = signed_in(officer)
        overdue = client.get(reverse("staff:queue", args=["overdue"]))
        assert tab_count(overdue, "已超期") == 2, officer
        assert set(queue_numbers(overdue)) == {late.number, flagged.number}, officer
        due_soon = client.get(reverse("staff:queue", args=["due-soon"]))
        assert queue_numbers(due_soon) == [soon.number], officer
    nick = signed_in(cast.nick).get(reverse("staff:queue", args=["overdue"]))
    assert tab_count(nick, "已超期") == 0
    assert queue_numbers(nick) == []


@pytest.fixture
def cap_of_two(monkeypatch):
    """Counts capped at 2 and pages of 2."""
    for module in ("workbench.selectors", "workbench.pages"):
        monkeypatch.setattr(f"{module}.COUNT_CAP", 2)
        monkeypatch.setattr(f"{module}.PAGE_SIZE", 2)


def test_a_count_past_the_cap_shows_a_plus_and_the_pages_still_follow(cast, cap_of_two):
    # A date filter needs the rows: the queue is counted case by case, up to the cap.
    made = [complaint(cast.alice) for _ in range(5)]
    ken = signed_in(cast.ken)
    since = HOME + "?received_from=2020-01-01"

    first = ken.get(since)
    body = first.content.decode()
    assert re.search(r'待受理\s*<span class="wb-count">2\+</span>', body)
    assert "超过 2 件" in body
    assert 'rel="next"' in body and 'rel="prev"' not in body

    seen = queue_numbers(first)
    second = ken.get(since + "&page=2")
    third = ken.get(since + "&page=3")
    seen += queue_numbers(second) + queue_numbers(third)
    assert seen == [case.number for case in made]  # first come, first served
    assert 'rel="prev"' in third.content.decode()
    assert 'rel="next"' not in third.content.decode()
    assert queue_numbers(ken.get(since + "&page=9")) == seen[:2]
    assert queue_numbers(ken.get(since + "&page=x")) == seen[:2]


def test_a_count_from_the_counters_past_the_cap_is_shown_in_full(cast, cap_of_two):
    made = [complaint(cast.alice) for _ in range(5)]
    ken = signed_in(cast.ken)

    first = ken.get(HOME)
    body = first.content.decode()
    assert tab_count(first, "待受理") == 5
    assert "超过" not in body
    third = ken.get(HOME + "?page=3")
    assert queue_numbers(third) == [made[4].number]
    assert 'rel="next"' not in third.content.decode()


def test_a_count_under_the_cap_is_exact(cast, monkeypatch):
    monkeypatch.setattr("workbench.selectors.COUNT_CAP", 3)
    monkeypatch.setattr("workbench.pages.COUNT_CAP", 3)
    for _ in range(3):
        complaint(cast.alice)
    page = signed_in(cast.ken).get(HOME)
    assert tab_count(page, "待受理") == 3
    assert "超过" not in page.content.decode()


def test_the_workbench_speaks_english_when_asked(cast):
    complaint(cast.alice)
    ken = signed_in(cast.ken)
    ken.cookies["django_language"] = "en"
    with translation.override(translation.get_language()):  # the request leaves "en" active
        html = ken.get(HOME).content.decode()
    assert "Next deadline" in html
    assert "下一期限" not in html
