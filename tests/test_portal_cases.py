"""The consumer's cases: the list, the case page and the consumer's actions (portal.views)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cases.evidence import store_upload
from cases.intake import submit_case
from cases.models import Attachment, Case, Outcome, Status
from cases.services import perform

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"


@pytest.fixture(autouse=True)
def media_and_cache(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()


@pytest.fixture
def alice(client: Client, cast) -> Client:
    client.force_login(cast.alice)
    return client


def file_complaint(user, respondent: str = "杭州好运来电器有限公司") -> Case:
    return submit_case(
        kind="complaint",
        by=user,
        payload={
            "department": "330106",
            "contact_address": "杭州市西湖区文一路1号",
            "respondent": {"name": respondent, "address": "浙江省杭州市西湖区文三路90号"},
            "facts": "电饭煲用了三天就不能加热。",
            "demand": "退货退款。",
        },
    )


@pytest.fixture
def complaint(cast) -> Case:
    return file_complaint(cast.alice)


def refreshed(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


# --- my cases ----------------------------------------------------------------------------------


def test_my_cases_needs_a_signed_in_user(client, db):
    response = client.get("/my/cases/")

    assert response["Location"].startswith("/accounts/login/")


def test_my_cases_lists_only_mine_newest_first_with_the_next_deadline(alice, cast):
    older = file_complaint(cast.alice, respondent="甲商店")
    newer = file_complaint(cast.alice, respondent="乙商店")
    bobs = file_complaint(cast.bob, respondent="丙商店")

    html = alice.get("/my/cases/").content.decode()

    assert newer.number in html
    assert older.number in html
    assert html.index(newer.number) < html.index(older.number)
    assert bobs.number not in html
    assert "受理期限" in html
    assert newer.deadlines.get().due.isoformat() in html
    assert "badge--submitted" in html and "待受理" in html


def test_my_cases_is_paginated(alice, cast):
    numbers = [file_complaint(cast.alice).number for _ in range(21)]

    first = alice.get("/my/cases/").content.decode()
    second = alice.get("/my/cases/?page=2").content.decode()

    assert numbers[-1] in first and numbers[0] not in first
    assert numbers[0] in second
    assert "第 2 页，共 2 页" in second


def test_staff_do_not_see_the_cases_of_their_department_as_their_own(client, cast, complaint):
    client.force_login(cast.ken)

    assert complaint.number not in client.get("/my/cases/").content.decode()
    assert client.get(f"/my/cases/{complaint.number}/").status_code == 404


# --- the case page -----------------------------------------------------------------------------


def test_another_consumers_case_does_not_exist_for_me(client, cast, complaint):
    client.force_login(cast.bob)

    assert client.get(f"/my/cases/{complaint.number}/").status_code == 404


def test_the_case_page_shows_status_deadline_and_what_happens_next(alice, complaint):
    html = alice.get(f"/my/cases/{complaint.number}/").content.decode()

    assert complaint.number in html
    assert "待受理" in html
    assert f"受理期限：{complaint.deadlines.get().due.isoformat()}" in html
    assert "7 个工作日内决定是否受理" in html
    assert "杭州好运来电器有限公司" in html


def test_the_timeline_names_the_county_bureau_never_the_station_it_diverted_to(
    alice, cast, complaint
):
    perform(complaint, "accept", by=cast.ken, handler_unit="330106001")
    perform(refreshed(complaint), "mark_major", by=cast.cathy)

    html = alice.get(f"/my/cases/{complaint.number}/").content.decode()

    assert '<span class="timeline__what">受理</span>' in html
    assert "西湖区" in html
    assert "文新" not in html  # the station
    assert "330106001" not in html
    assert "Ken" not in html  # officers appear as their department
    assert "重大" not in html  # supervision is internal


def test_the_evidence_is_listed_with_its_download_link(alice, cast):
    upload = SimpleUploadedFile("receipt.png", PNG, "image/png")
    attachment = store_upload(owner=cast.alice, uploaded_file=upload)
    case = submit_case(
        kind="consultation",
        by=cast.alice,
        payload={
            "department": "330106",
            "question": "能退吗？",
            "attachments": [str(attachment.id)],
        },
    )

    html = alice.get(f"/my/cases/{case.number}/").content.decode()

    assert f'href="/cases/files/{attachment.id}/"' in html
    assert "receipt.png" in html


# --- actions -----------------------------------------------------------------------------------


def test_a_consumer_withdraws_with_a_reason(alice, complaint):
    response = alice.post(
        f"/my/cases/{complaint.number}/withdraw/",
        {"version": complaint.version, "reason": "已和商家和解"},
    )

    case = refreshed(complaint)
    assert response["Location"] == f"/my/cases/{complaint.number}/"
    assert (case.status, case.outcome) == (Status.CLOSED, Outcome.WITHDRAWN)
    assert case.events.filter(action="withdraw", note="已和商家和解").exists()
    assert "已撤回。" in alice.get(response["Location"]).content.decode()


def test_a_withdrawal_on_a_case_changed_meanwhile_is_refused_and_the_reason_kept(
    alice, cast, complaint
):
    perform(complaint, "accept", by=cast.ken)

    response = alice.post(
        f"/my/cases/{complaint.number}/withdraw/",
        {"version": complaint.version, "reason": "已和商家和解"},
    )

    html = response.content.decode()
    assert refreshed(complaint).status == Status.ACCEPTED
    assert "案件已被他人更新，请刷新后重试。" in html
    assert "已和商家和解" in html
    assert f'name="version" value="{refreshed(complaint).version}"' in html


def test_rating_an_open_case_is_refused_with_a_message(alice, complaint):
    response = alice.post(
        f"/my/cases/{complaint.number}/rate/",
        {"version": complaint.version, "satisfaction": "5", "resolved": "yes"},
    )

    page = alice.get(response["Location"]).content.decode()
    assert "当前状态下您不能执行此操作。" in page
    assert refreshed(complaint).satisfaction is None


def test_a_closed_case_is_rated_through_perform(alice, cast, complaint):
    closed = perform(complaint, "withdraw", by=cast.alice)

    response = alice.post(
        f"/my/cases/{complaint.number}/rate/",
        {"version": closed.version, "satisfaction": "4", "resolved": "no", "comment": "还行"},
    )

    case = refreshed(complaint)
    assert response.status_code == 302
    assert (case.satisfaction, case.resolved, case.rating_comment) == (4, False, "还行")
    page = alice.get(f"/my/cases/{complaint.number}/").content.decode()
    assert "4 分（满分 5 分）" in page
    assert "评价处理结果" not in page  # rated once


def test_a_rating_needs_a_score(alice, cast, complaint):
    closed = perform(complaint, "withdraw", by=cast.alice)

    response = alice.post(
        f"/my/cases/{complaint.number}/rate/", {"version": closed.version, "resolved": "yes"}
    )

    assert 'id="id_satisfaction_error"' in response.content.decode()
    assert refreshed(complaint).satisfaction is None


def test_an_empty_supplement_is_refused_next_to_the_facts(alice, complaint):
    response = alice.post(
        f"/my/cases/{complaint.number}/supplement/", {"version": complaint.version, "facts": ""}
    )

    html = response.content.decode()
    assert 'id="id_facts_error"' in html
    assert "请填写补充的事实或附上材料。" in html


def test_a_supplement_adds_facts_and_files(alice, complaint):
    response = alice.post(
        f"/my/cases/{complaint.number}/supplement/",
        {
            "version": complaint.version,
            "facts": "商家拒绝退货。",
            "evidence": SimpleUploadedFile("chat.png", PNG, "image/png"),
        },
    )

    case = refreshed(complaint)
    assert response.status_code == 302
    assert "商家拒绝退货。" in case.facts
    assert list(Attachment.objects.filter(case=case).values_list("name", flat=True)) == ["chat.png"]


def test_only_the_consumers_own_actions_have_a_url(alice, complaint):
    response = alice.post(f"/my/cases/{complaint.number}/accept/", {"version": 1})

    assert response.status_code == 404
    assert refreshed(complaint).status == Status.SUBMITTED


def test_actions_are_posts(alice, complaint):
    assert alice.get(f"/my/cases/{complaint.number}/withdraw/").status_code == 405


def test_a_consumer_cannot_act_on_another_consumers_case(client, cast, complaint):
    client.force_login(cast.bob)

    response = client.post(
        f"/my/cases/{complaint.number}/withdraw/", {"version": complaint.version}
    )

    assert response.status_code == 404
    assert refreshed(complaint).status == Status.SUBMITTED


def test_the_case_page_speaks_english_too(alice, complaint):
    html = alice.get(f"/my/cases/{complaint.number}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Awaiting acceptance" in html
    assert f"Accept-or-reject deadline: {complaint.deadlines.get().due.isoformat()}" in html
    assert "within 7 working days of receipt" in html
    assert "Withdraw now" in html
