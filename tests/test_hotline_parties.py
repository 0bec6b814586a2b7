"""Joint complaints and agents taken at the hotline desk (o121 Arts. 11-12): the form's rows and
the power of attorney it keeps, intake's rules named at the right row, nothing half-saved, and
who sees the people recorded.

Every refusal has its success twin, so a broken fixture cannot make a refusal pass.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.identity import decrypt_id_number
from accounts.services import create_staff
from cases import evidence
from cases.models import Attachment, Case
from parties.models import Agent, CoComplainant
from tests.conftest import PASSWORD
from tests.test_hotline import DESK, call, signed_in, token_of
from tests.test_joint_complaints import counts
from workbench.hotline_forms import NO_CONSENT

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\x00" * 32
ZHAO_ID = "110101198001010010"  # a valid GB 11643 number
ZHAO_MASKED = "1101**********0010"
QIAN_ID = "11010119900307002X"
SHOP_USCC = "91330106MA2H7KQ4L5"


@pytest.fixture(autouse=True)
def media_and_cache(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()


@pytest.fixture
def hank(cast) -> Client:
    return signed_in(cast.hank)


@pytest.fixture
def token(hank) -> str:
    return token_of(hank.get(DESK))


def pdf(name: str = "委托书.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, "application/octet-stream")


def row(i: int, name: str, phone: str, **extra: Any) -> dict[str, Any]:
    """Row `i` of the co-complainants as the page sends it, consent ticked unless told."""
    values = {f"co_{i}_name": name, f"co_{i}_phone": phone, f"co_{i}_consent": "on"}
    values.update({f"co_{i}_{key}": value for key, value in extra.items()})
    return {key: value for key, value in values.items() if value is not None}


def joint_call(token: str, **overrides: Any) -> dict[str, Any]:
    """A joint complaint by phone: Zhao (a representative, with his ID number) and Sun."""
    data = call(
        token,
        respondent_uscc=SHOP_USCC,
        co_rows="2",
        **row(0, "赵六", "13900000011", id_number=ZHAO_ID, representative="on"),
        **row(1, "孙七", "13900000012"),
    )
    data.update(overrides)
    return data


def agent_fields() -> dict[str, Any]:
    """The complainant's agent at the desk in person, a scanned power of attorney with them."""
    return {
        "channel": "visit",
        "agent_name": "钱律师",
        "agent_phone": "13900000088",
        "agent_id_number": QIAN_ID,
        "power_of_attorney": pdf(),
    }


def agent_call(token: str, **overrides: Any) -> dict[str, Any]:
    """A complaint brought to the desk by the complainant's agent."""
    data = call(token, respondent_uscc=SHOP_USCC, **agent_fields())
    data.update(overrides)
    return data


def kept_call(token: str, document: str, **overrides: Any) -> dict[str, Any]:
    """The agent's complaint sent again, the power of attorney kept by the page (no file)."""
    data = agent_call(token, power_of_attorney_id=document, **overrides)
    del data["power_of_attorney"]
    return data


def joint_agent_call(token: str) -> dict[str, Any]:
    return {**joint_call(token), **agent_fields()}


NOTHING = {"cases": 0, "events": 0, "deadlines": 0, "co": 0, "agents": 0, "attached": 0}


def kept_id(body: str) -> str:
    match = re.search(r'name="power_of_attorney_id" value="([0-9a-f-]+)"', body)
    assert match, "no power of attorney kept on the page"
    return match.group(1)


# --- the rows -------------------------------------------------------------------------------------


def test_the_desk_offers_one_co_complainant_row_and_the_agent(hank):
    body = hank.get(DESK).content.decode()

    assert "6 共同投诉人与委托代理人" in body
    assert 'enctype="multipart/form-data"' in body
    assert 'name="co_0_name"' in body and 'name="co_1_name"' not in body
    assert 'name="co_0_consent"' in body and 'name="co_0_representative"' in body
    assert 'name="agent_name"' in body and 'type="file" name="power_of_attorney"' in body


def test_one_more_row_is_added_without_javascript_and_nothing_is_filed(hank, token):
    data = call(token, op="add_row", co_rows="1", caller_phone="", **row(0, "赵六", "13900000011"))
    response = hank.post(DESK, data)

    body = response.content.decode()
    assert response.status_code == 200
    assert not Case.objects.exists()
    assert 'name="co_1_name"' in body and 'name="co_2_name"' not in body
    assert re.search(r'name="co_1_name"[^>]*autofocus', body)
    assert 'value="赵六"' in body
    assert re.search(r'name="co_0_consent"[^>]*checked', body)
    assert "请填写电话" not in body  # adding a row checks nothing
    assert f'name="token" value="{token}"' in body


def test_rows_stop_at_twenty(hank, token):
    response = hank.post(DESK, call(token, op="add_row", co_rows="20"))

    body = response.content.decode()
    assert "共同投诉人最多20人。" in body
    assert 'name="co_19_name"' in body and "co_20_name" not in body


def test_a_lookup_keeps_the_rows_shown(hank, token):
    body = hank.post(DESK, call(token, op="lookup", co_rows="3")).content.decode()

    assert 'name="co_2_name"' in body
    assert 'name="co_rows" value="3"' in body


# --- filing a joint complaint ---------------------------------------------------------------------


def test_a_joint_complaint_by_phone_is_filed_with_its_co_complainants(cast, hank, token):
    response = hank.post(DESK, joint_call(token), follow=True)

    case = Case.objects.get()
    people = list(CoComplainant.objects.filter(case=case))
    assert response.redirect_chain[-1][0] == f"/staff/cases/{case.number}/"
    assert [(p.position, p.real_name, p.phone) for p in people] == [
        (1, "赵六", "13900000011"),
        (2, "孙七", "13900000012"),
    ]
    assert [(p.consented, p.is_representative) for p in people] == [(True, True), (True, False)]
    assert decrypt_id_number(people[0].id_number_encrypted) == ZHAO_ID
    assert people[1].id_number_encrypted == ""
    assert case.party_name == "王来电"  # the caller stays the case's own complainant
    assert "共同投诉人2人（其中代表人1人）。" in response.content.decode()


def test_an_empty_row_in_between_is_skipped(hank, token):
    data = call(token, co_rows="3", **row(2, "孙七", "13900000012"))
    assert hank.post(DESK, data).status_code == 302

    assert list(CoComplainant.objects.values_list("position", "real_name")) == [(1, "孙七")]


def test_a_complaint_without_parties_records_none(hank, token):
    assert hank.post(DESK, call(token)).status_code == 302

    assert Case.objects.count() == 1
    assert not CoComplainant.objects.exists() and not Agent.objects.exists()


def test_a_report_takes_no_co_complainants(hank, token):
    data = call(
        token, kind="report", demand="", facts="无证经营。", **row(0, "赵六", "13900000011")
    )
    assert hank.post(DESK, data).status_code == 302

    assert Case.objects.get().kind == "report"
    assert not CoComplainant.objects.exists()


# --- filing through an agent ----------------------------------------------------------------------


def test_a_visit_with_a_scanned_power_of_attorney_records_the_agent(cast, hank, token):
    response = hank.post(DESK, agent_call(token), follow=True)

    case = Case.objects.get()
    agent = Agent.objects.get(case=case)
    assert (agent.real_name, agent.phone) == ("钱律师", "13900000088")
    assert decrypt_id_number(agent.id_number_encrypted) == QIAN_ID
    assert agent.power_of_attorney.case == case
    assert agent.power_of_attorney.owner == cast.hank
    assert agent.power_of_attorney.name == "委托书.pdf"
    body = response.content.decode()
    assert "已登记委托代理人，授权委托书已存入证据材料。" in body
    assert "钱律师" in body and "委托书.pdf" in body


def test_the_power_of_attorney_is_kept_across_a_lookup_and_a_refusal(hank, token):
    looked_up = hank.post(DESK, agent_call(token, op="lookup"))
    body = looked_up.content.decode()
    assert "已上传授权委托书：委托书.pdf" in body
    document = kept_id(body)
    assert Attachment.objects.get(pk=document).case is None

    refused = hank.post(DESK, kept_call(token, document, caller_phone=""))
    assert refused.status_code == 422
    assert kept_id(refused.content.decode()) == document

    filed = hank.post(DESK, kept_call(token, document))
    assert filed.status_code == 302
    assert str(Agent.objects.get().power_of_attorney_id) == document
    assert Attachment.objects.count() == 1  # the same file throughout, never stored twice


def test_an_agent_without_a_power_of_attorney_is_refused_at_its_input(hank, token):
    data = agent_call(token)
    del data["power_of_attorney"]
    response = hank.post(DESK, data)

    assert response.status_code == 422
    assert counts() == NOTHING
    form = response.context["form"]
    assert form.errors["power_of_attorney"] == ["委托代理人投诉须提交授权委托书。"]
    assert 'href="#id_power_of_attorney"' in response.content.decode()


def test_a_power_of_attorney_without_the_agent_asks_for_the_agent(hank, token):
    response = hank.post(DESK, call(token, power_of_attorney=pdf()))

    assert response.status_code == 422
    assert counts() == NOTHING
    assert response.context["form"].errors["agent_name"] == ["请填写姓名。"]
    assert response.context["form"].errors["agent_phone"] == ["请填写电话。"]


def test_a_recording_is_no_power_of_attorney_and_is_not_kept(hank, token):
    response = hank.post(DESK, agent_call(token, power_of_attorney=pdf("录音.mp3", MP3)))

    assert response.status_code == 422
    assert counts() == NOTHING
    assert not Attachment.objects.exists()
    assert response.context["form"].errors["power_of_attorney"] == ["授权委托书应为图片或PDF文件。"]


def test_a_page_that_is_not_a_file_type_at_all_is_refused(hank, token):
    response = hank.post(DESK, agent_call(token, power_of_attorney=pdf("x.pdf", b"<html>")))

    assert response.status_code == 422
    assert not Attachment.objects.exists()
    assert response.context["form"].errors["power_of_attorney"] == ["授权委托书应为图片或PDF文件。"]


def test_the_kept_power_of_attorney_can_be_dropped(hank, token):
    document = kept_id(hank.post(DESK, agent_call(token, op="lookup")).content.decode())
    data = kept_call(token, document, drop_power_of_attorney="on")
    response = hank.post(DESK, data)

    assert response.status_code == 422
    assert counts() == NOTHING
    assert "已上传授权委托书" not in response.content.decode()
    assert response.context["form"].errors["power_of_attorney"] == [
        "委托代理人投诉须提交授权委托书。"
    ]


def test_another_agents_upload_is_no_power_of_attorney_here(tree, cast, hank, token):
    holly = create_staff(
        username="holly", password=PASSWORD, department=tree.county, roles=["hotline"]
    )
    theirs = evidence.store_upload(owner=holly, uploaded_file=pdf("别人的委托书.pdf"))
    data = kept_call(token, str(theirs.pk))
    response = hank.post(DESK, data)

    assert response.status_code == 422
    assert counts() == NOTHING
    body = response.content.decode()
    assert "别人的委托书.pdf" not in body
    assert response.context["form"].errors["power_of_attorney"] == [
        "授权委托书文件不存在、已被使用或不属于您，请重新上传。"
    ]
    assert Attachment.objects.get(pk=theirs.pk).case is None


# --- intake's rules at the right row --------------------------------------------------------------


def test_a_co_complainant_not_asked_for_consent_is_named_at_their_row(hank, token):
    response = hank.post(DESK, joint_call(token, co_1_consent=""))

    assert response.status_code == 422
    assert counts() == NOTHING
    errors = response.context["form"].errors
    assert errors["co_1_consent"] == [NO_CONSENT]
    assert "co_0_consent" not in errors
    body = response.content.decode()
    assert 'href="#id_co_1_consent"' in body
    assert "第2位 已确认本人同意共同投诉" in body


def test_a_bad_phone_and_id_number_are_named_at_their_row_after_an_empty_one(hank, token):
    data = call(token, co_rows="3", **row(2, "孙七", "12345", id_number="110101198001010011"))
    response = hank.post(DESK, data)

    assert response.status_code == 422
    assert counts() == NOTHING
    errors = response.context["form"].errors
    assert errors["co_2_phone"] == ["电话号码格式不正确。"]
    assert errors["co_2_id_number"]  # the check digit is wrong: intake says so
    assert not any(name.startswith(("co_0", "co_1")) for name in errors)


def test_a_begun_row_without_a_name_is_named(hank, token):
    response = hank.post(DESK, call(token, **row(0, "", "13900000011")))

    assert response.status_code == 422
    assert response.context["form"].errors["co_0_name"] == ["请填写姓名。"]
    assert counts() == NOTHING


def test_three_representatives_under_o121_are_refused_above_the_rows(hank, token):
    data = call(
        token,
        co_rows="3",
        **row(0, "赵六", "13900000011", representative="on"),
        **row(1, "孙七", "13900000012", representative="on"),
        **row(2, "周八", "13900000013", representative="on"),
    )
    response = hank.post(DESK, data)

    assert response.status_code == 422
    assert counts() == NOTHING
    [problem] = response.context["form"].group_errors["co_complainants"]
    assert problem.startswith("代表人最多2名")
    body = response.content.decode()
    assert 'href="#hl-co"' in body and "尚未登记" in body

    two = {**data, "co_2_representative": ""}
    assert hank.post(DESK, two).status_code == 302
    assert CoComplainant.objects.filter(is_representative=True).count() == 2


def test_a_call_received_under_o20_may_name_up_to_five_representatives(hank, token):
    data = call(
        token,
        received_at="2026-04-10T10:00",
        co_rows="3",
        **row(0, "赵六", "13900000011", representative="on"),
        **row(1, "孙七", "13900000012", representative="on"),
        **row(2, "周八", "13900000013", representative="on"),
    )
    response = hank.post(DESK, data)

    assert response.status_code == 302, response.context["form"].errors
    case = Case.objects.get()
    assert case.rules == "o20"
    assert CoComplainant.objects.filter(case=case, is_representative=True).count() == 3


def test_the_caller_is_not_their_own_co_complainant(hank, token):
    response = hank.post(DESK, call(token, **row(0, "王来电", "13900000099")))

    assert response.status_code == 422
    assert counts() == NOTHING
    assert response.context["form"].group_errors["co_complainants"] == [
        "投诉人本人无需列为共同投诉人。"
    ]


def test_the_same_person_twice_is_refused(hank, token):
    data = joint_call(token, co_1_phone="13900000011")
    response = hank.post(DESK, data)

    assert response.status_code == 422
    assert counts() == NOTHING
    assert response.context["form"].group_errors["co_complainants"] == [
        "共同投诉人有重复（电话或身份证号码相同）。"
    ]


def test_shape_problems_and_party_problems_are_shown_together(hank, token):
    data = joint_call(token, amount="很多", co_1_phone="12345", agent_name="钱律师")
    response = hank.post(DESK, data)

    errors = response.context["form"].errors
    assert response.status_code == 422
    assert errors["amount"] == ["请填写数字，例如 199.00。"]
    assert errors["co_1_phone"] == ["电话号码格式不正确。"]
    assert errors["power_of_attorney"] == ["委托代理人投诉须提交授权委托书。"]
    assert counts() == NOTHING


# --- nothing half-saved ---------------------------------------------------------------------------


def test_a_refusal_while_filing_leaves_no_case_no_party_and_the_upload_unclaimed(
    hank, token, monkeypatch
):
    """The power of attorney is taken by another filing between the checks and the insert:
    the case, its events, clocks and parties written so far are all rolled back."""
    claim = evidence.claim_uploads

    def taken_meanwhile(*, owner, ids, case):
        other = Case.objects.exclude(pk=case.pk).first()
        Attachment.objects.filter(pk__in=ids).update(case=other)
        return claim(owner=owner, ids=ids, case=case)

    assert hank.post(DESK, call(token)).status_code == 302  # an earlier case to take it
    before = counts()
    monkeypatch.setattr(evidence, "claim_uploads", taken_meanwhile)
    fresh = token_of(hank.get(DESK))
    response = hank.post(DESK, joint_agent_call(fresh))

    assert response.status_code == 422
    assert counts() == before
    assert not Attachment.objects.filter(case__isnull=False).exists()
    assert Attachment.objects.get().case is None
    assert response.context["form"].errors["power_of_attorney"]


def test_a_resent_joint_complaint_files_one_case_and_one_set_of_parties(hank, token):
    data = joint_call(token)
    first = hank.post(DESK, data)
    second = hank.post(DESK, data)

    assert first["Location"] == second["Location"]
    assert Case.objects.count() == 1
    assert CoComplainant.objects.count() == 2


# --- who sees them --------------------------------------------------------------------------------


def test_the_case_page_shows_the_parties_with_id_numbers_masked(hank, token):
    body = hank.post(DESK, joint_agent_call(token), follow=True).content.decode()

    assert "共同投诉人与代理人" in body
    assert "赵六" in body and "孙七" in body and "钱律师" in body
    assert ZHAO_MASKED in body
    assert ZHAO_ID not in body and QIAN_ID not in body
    assert "13900000011" in body  # the unit holding the case calls them


def test_staff_higher_up_see_the_phones_masked(cast, hank, token):
    hank.post(DESK, joint_call(token))
    number = Case.objects.get().number
    body = signed_in(cast.cathy).get(f"/staff/cases/{number}/").content.decode()

    assert "赵六" in body and "139****0011" in body
    assert "13900000011" not in body and ZHAO_ID not in body


def test_the_business_never_sees_the_parties_nor_the_power_of_attorney(api, cast, hank, token):
    hank.post(DESK, joint_agent_call(token))
    case = Case.objects.get()
    document = str(Agent.objects.get().power_of_attorney_id)
    handler = api.as_user(cast.ken).get(f"/api/v1/cases/{case.number}").json()
    url = handler["agent"]["power_of_attorney"]["url"]

    response = api.as_user(cast.betty).get(f"/api/v1/cases/{case.number}")
    assert response.status_code == 200  # the business sees the complaint itself
    payload = response.json()
    assert payload["co_complainants"] is None and payload["agent"] is None
    assert document not in [a["id"] for a in payload["attachments"]]
    text = response.content.decode()
    assert "赵六" not in text and "钱律师" not in text
    assert api.as_user(cast.betty).get(url).status_code == 404  # the business, by its id
    assert api.as_user(cast.ken).get(url).status_code == 200  # the handler


def test_staff_of_another_county_see_nothing(cast, hank, token):
    hank.post(DESK, joint_call(token))
    number = Case.objects.get().number

    assert signed_in(cast.nick).get(f"/staff/cases/{number}/").status_code == 404
    ken = signed_in(cast.ken).get(f"/staff/cases/{number}/")
    assert ken.status_code == 200 and "赵六" in ken.content.decode()


def test_the_desk_confirmation_counts_the_parties_but_names_no_one(hank, token):
    data = joint_call(token, department_code="330102", respondent_address="杭州市上城区解放路1号")
    response = hank.post(DESK, data, follow=True)

    case = Case.objects.get()
    body = response.content.decode()
    assert response.redirect_chain[-1][0] == DESK
    assert f"编号 {case.number}" in body
    assert "共同投诉人2人（其中代表人1人）。" in body
    assert "赵六" not in body and "13900000011" not in body and ZHAO_MASKED not in body
