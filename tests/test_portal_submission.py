"""The consumer's step-by-step submission form (portal.submit_views), through the test client."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cases.models import Attachment, Case, ClockKind

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
SHOP = "杭州好运来电器有限公司"
SHOP_ADDRESS = "浙江省杭州市西湖区文三路90号"
HOME_ADDRESS = "杭州市西湖区文一路1号"


@pytest.fixture(autouse=True)
def media_and_cache(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()


@pytest.fixture
def alice(client: Client, cast) -> Client:
    client.force_login(cast.alice)
    return client


def respondent_step(**changes) -> dict[str, str]:
    data = {
        "respondent_name": SHOP,
        "respondent_uscc": "",
        "respondent_address": SHOP_ADDRESS,
        "online": "no",
        "platform_name": "",
        "platform_address": "",
    }
    data.update(changes)
    return data


def details_step(**changes) -> dict:
    data = {
        "category": "G01",
        "amount": "199.00",
        "occurred_on": "2026-09-20",
        "facts": "电饭煲用了三天就不能加热。",
        "demand": "退货退款。",
    }
    data.update(changes)
    return data


def png(name: str = "receipt.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, "image/png")


def token_of(response) -> str:
    match = re.search(r'name="token" value="([^"]+)"', response.content.decode())
    assert match, "the confirm page carries the form token"
    return match.group(1)


def fill_complaint(client: Client, *, evidence: bool = True) -> str:
    """Walk steps 1-3 and open the confirm page; the form token."""
    assert client.post("/complaints/new/", respondent_step()).status_code == 302
    assert client.post("/complaints/new/department/", {"department": "330106"}).status_code == 302
    details = details_step()
    if evidence:
        details["evidence"] = png()
    response = client.post("/complaints/new/details/", details)
    assert response.status_code == 302, response.content.decode()
    return token_of(client.get("/complaints/new/confirm/"))


def confirm(client: Client, token: str, address: str = HOME_ADDRESS):
    return client.post(
        "/complaints/new/confirm/", {"token": token, "contact_address": address, "nav": "next"}
    )


# --- the whole way -------------------------------------------------------------------------------


def test_a_consumer_files_a_complaint_in_four_steps(alice, cast):
    token = fill_complaint(alice)

    response = confirm(alice, token)

    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/my/cases/{case.number}/"
    assert (case.kind, case.consumer, case.department_id) == ("complaint", cast.alice, "330106")
    assert (case.respondent_name, case.respondent_address) == (SHOP, SHOP_ADDRESS)
    assert (case.category, str(case.amount), str(case.occurred_on)) == (
        "G01",
        "199.00",
        "2026-09-20",
    )
    assert case.party_address == HOME_ADDRESS
    assert [a.name for a in Attachment.objects.filter(case=case)] == ["receipt.png"]
    assert case.deadlines.filter(kind=ClockKind.ACCEPT).exists()


def test_sending_the_confirm_form_twice_files_one_case(alice, cast):
    token = fill_complaint(alice, evidence=False)

    first = confirm(alice, token)
    second = confirm(alice, token)

    assert Case.objects.count() == 1
    assert second.status_code == 302
    assert second["Location"] == first["Location"]


def test_two_requests_sent_before_either_was_answered_file_one_case(alice, cast):
    """A double click without JavaScript: the second request still sees the draft in the session
    (the first had not saved its change yet), so only the idempotency key stops a second case."""
    token = fill_complaint(alice, evidence=False)
    before = dict(alice.session.items())

    first = confirm(alice, token)
    session = alice.session
    session.update(before)
    session.pop("portal.submitted", None)
    session.save()
    second = confirm(alice, token)

    assert Case.objects.count() == 1
    assert second["Location"] == first["Location"]


# --- each step -------------------------------------------------------------------------------


def test_submitting_needs_a_signed_in_consumer(client, db):
    response = client.get("/complaints/new/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/complaints/new/")


def test_an_unknown_step_is_not_found(alice):
    assert alice.get("/complaints/new/payment/").status_code == 404


def test_a_missing_field_is_named_next_to_it_and_what_was_typed_stays(alice):
    response = alice.post("/complaints/new/", respondent_step(respondent_name=""))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_respondent_name_error"' in html
    assert "请填写此项。" in html
    assert f'value="{SHOP_ADDRESS}"' in html
    assert 'aria-invalid="true"' in html


def test_an_online_purchase_needs_the_platform(alice):
    response = alice.post("/complaints/new/", respondent_step(online="yes"))

    html = response.content.decode()
    assert 'id="id_platform_name_error"' in html
    assert 'id="id_platform_address_error"' in html


def test_the_department_step_suggests_the_competent_county_with_its_basis(alice):
    alice.post("/complaints/new/", respondent_step())

    html = alice.get("/complaints/new/department/").content.decode()

    assert 'value="330106"' in html
    assert "浙江省 杭州市 西湖区" in html
    assert "经营者所在地" in html
    assert "市场监督管理投诉举报处理" in html  # the regulation the suggestion rests on
    assert "data-division-picker" in html


def test_a_platform_purchase_also_suggests_the_platforms_county(alice, tree):
    alice.post(
        "/complaints/new/",
        respondent_step(
            online="yes", platform_name="某商城", platform_address="浙江省杭州市上城区解放路1号"
        ),
    )

    html = alice.get("/complaints/new/department/").content.decode()

    assert 'value="330106"' in html
    assert 'value="330102"' in html
    assert "第三方平台所在地" in html


def test_another_county_can_be_chosen_by_code_without_javascript(alice):
    alice.post("/complaints/new/", respondent_step())

    response = alice.post(
        "/complaints/new/department/", {"department": "other", "department_code": "330102"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/complaints/new/details/"


def test_choosing_other_without_a_code_asks_for_it(alice):
    alice.post("/complaints/new/", respondent_step())

    response = alice.post("/complaints/new/department/", {"department": "other"})

    assert 'id="id_department_code_error"' in response.content.decode()


def test_an_address_lookup_offers_its_county(alice):
    response = alice.post(
        "/consultations/new/", {"nav": "lookup", "lookup_address": "杭州市上城区解放路1号"}
    )
    html = alice.get(response["Location"]).content.decode()

    assert 'value="330102"' in html
    assert "您输入的地址" in html


def test_looking_up_an_empty_address_asks_for_one(alice):
    response = alice.post("/consultations/new/", {"nav": "lookup", "lookup_address": "  "})
    html = alice.get(response["Location"]).content.decode()

    assert "请填写要查找的地址" in html


def test_an_unrecognised_address_says_so_and_offers_the_code_input(alice):
    alice.post("/complaints/new/", respondent_step(respondent_address="火星基地1号"))

    html = alice.get("/complaints/new/department/").content.decode()

    assert "无法从地址中识别区县" in html
    assert 'id="id_department_code"' in html


def test_going_back_keeps_what_was_typed_on_the_step_left(alice):
    alice.post("/complaints/new/", respondent_step())
    alice.post("/complaints/new/department/", {"department": "330106"})

    response = alice.post(
        "/complaints/new/details/", {**details_step(facts="只写了一半"), "nav": "back"}
    )
    again = alice.get("/complaints/new/details/").content.decode()

    assert response["Location"] == "/complaints/new/department/"
    assert "只写了一半" in again


def test_a_file_that_is_not_evidence_is_refused_next_to_the_file_input(alice):
    alice.post("/complaints/new/", respondent_step())
    alice.post("/complaints/new/department/", {"department": "330106"})
    page = SimpleUploadedFile("page.png", b"<html>not a picture</html>", "image/png")

    response = alice.post("/complaints/new/details/", {**details_step(), "evidence": page})

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_evidence_error"' in html
    assert "page.png" in html
    assert "电饭煲用了三天就不能加热。" in html
    assert not Attachment.objects.exists()


def test_evidence_is_kept_across_steps_and_an_unticked_file_is_not_filed(alice):
    alice.post("/complaints/new/", respondent_step())
    alice.post("/complaints/new/department/", {"department": "330106"})
    alice.post(
        "/complaints/new/details/", {**details_step(), "evidence": [png("a.png"), png("b.png")]}
    )
    kept = Attachment.objects.get(name="a.png")
    alice.post(
        "/complaints/new/details/",
        {**details_step(), "attachments_shown": "1", "keep_attachment": [str(kept.id)]},
    )

    confirm(alice, token_of(alice.get("/complaints/new/confirm/")))

    assert list(Case.objects.get().attachments.values_list("name", flat=True)) == ["a.png"]


def test_the_confirm_page_summarises_and_prefills_the_last_address(alice, cast):
    confirm(alice, fill_complaint(alice, evidence=False), address="杭州市西湖区天目山路1号")
    token = fill_complaint(alice)

    html = alice.get("/complaints/new/confirm/").content.decode()

    assert token in html
    assert SHOP in html
    assert "家用电器" in html
    assert "receipt.png" in html
    assert 'value="杭州市西湖区天目山路1号"' in html


def test_the_confirm_page_sends_an_unfinished_form_back_to_its_first_gap(alice):
    alice.post("/complaints/new/", respondent_step())

    response = alice.get("/complaints/new/confirm/")

    assert response["Location"] == "/complaints/new/department/"


def test_intake_refusals_go_back_to_their_field_with_the_message(alice, tree):
    alice.post("/complaints/new/", respondent_step())
    alice.post("/complaints/new/department/", {"department": "other", "department_code": "330100"})
    alice.post("/complaints/new/details/", details_step())
    token = token_of(alice.get("/complaints/new/confirm/"))

    response = confirm(alice, token)
    page = alice.get(response["Location"]).content.decode()

    assert response["Location"] == "/complaints/new/department/"
    assert "请选择县级（区县）市场监管部门。" in page
    assert 'value="330100"' in page
    assert not Case.objects.exists()


def test_a_missing_contact_address_is_named_on_the_confirm_page(alice):
    token = fill_complaint(alice, evidence=False)

    response = confirm(alice, token, address="")

    assert 'id="id_contact_address_error"' in response.content.decode()
    assert not Case.objects.exists()


def test_an_account_without_real_name_cannot_file(client, cast):
    client.force_login(cast.betty)
    token = fill_complaint(client, evidence=False)

    response = confirm(client, token)
    page = client.get(response["Location"]).content.decode()

    assert "实名认证" in page
    assert "Hidden field" not in page
    assert 'value="杭州市西湖区文一路1号"' in page  # the address typed is still there
    assert not Case.objects.exists()


def test_starting_over_clears_the_draft(alice):
    alice.post("/complaints/new/", respondent_step())

    alice.post("/complaints/new/department/", {"nav": "discard"})
    html = alice.get("/complaints/new/").content.decode()

    assert SHOP not in html


def test_a_report_asks_for_leads_and_whether_to_be_told_the_decision(alice, cast):
    alice.post("/reports/new/", respondent_step())
    alice.post("/reports/new/department/", {"department": "330106"})
    details = details_step(notify_me="on")
    del details["demand"]
    assert alice.post("/reports/new/details/", details).status_code == 302
    token = token_of(alice.get("/reports/new/confirm/"))

    alice.post("/reports/new/confirm/", {"token": token, "contact_address": HOME_ADDRESS})

    case = Case.objects.get()
    assert (case.kind, case.notify_me, case.demand) == ("report", True, "")


def test_a_consultation_asks_the_department_and_the_question(alice, cast):
    alice.post("/consultations/new/", {"department": "other", "department_code": "330106"})
    alice.post("/consultations/new/question/", {"question": "网购七天无理由退货包括生鲜吗？"})
    token = token_of(alice.get("/consultations/new/confirm/"))

    response = alice.post("/consultations/new/confirm/", {"token": token, "contact_address": ""})

    case = Case.objects.get()
    assert response["Location"] == f"/my/cases/{case.number}/"
    assert (case.kind, case.facts) == ("consultation", "网购七天无理由退货包括生鲜吗？")
