"""Joint complaints and agents (o121 Arts. 11-12): intake through the API and the web form,
what each role sees, and that a refused submission leaves nothing behind."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.identity import decrypt_id_number
from cases.models import Attachment, Case, CaseEvent, Deadline
from parties.models import Agent, CoComplainant
from tests.test_intake_api import complaint_body, upload

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\x00" * 32
ZHAO_ID = "110101198001010010"  # a valid GB 11643 number


@pytest.fixture(autouse=True)
def media_and_cache(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()


def person(name="赵六", phone="13900000011", **extra):
    return {"real_name": name, "phone": phone, "consent": True, **extra}


def power_of_attorney(api, user, content=PDF, name="委托书.pdf"):
    response = api.as_user(user).post(
        "/api/v1/attachments",
        {"file": SimpleUploadedFile(name, content, "application/octet-stream")},
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def agent(document, **extra):
    return {"real_name": "钱律师", "phone": "13900000099", "power_of_attorney": document, **extra}


def counts() -> dict[str, int]:
    return {
        "cases": Case.objects.count(),
        "events": CaseEvent.objects.count(),
        "deadlines": Deadline.objects.count(),
        "co": CoComplainant.objects.count(),
        "agents": Agent.objects.count(),
        "attached": Attachment.objects.filter(case__isnull=False).count(),
    }


def joint_body(api, cast, **overrides):
    document = power_of_attorney(api, cast.alice)
    body = complaint_body(
        co_complainants=[
            person(id_number=ZHAO_ID, representative=True),
            person("孙七", "13900000012"),
        ],
        agent=agent(document),
    )
    body.update(overrides)
    return body


def file_joint(api, cast) -> dict:
    response = api.as_user(cast.alice).post_json("/api/v1/complaints", joint_body(api, cast))
    assert response.status_code == 201, response.content
    return response.json()


# --- filing through the API -------------------------------------------------------------------


def test_a_consumer_files_a_joint_complaint_through_an_agent(api, cast):
    case = file_joint(api, cast)

    stored = Case.objects.get(number=case["number"])
    people = list(CoComplainant.objects.filter(case=stored))
    assert [(p.position, p.real_name, p.is_representative) for p in people] == [
        (1, "赵六", True),
        (2, "孙七", False),
    ]
    assert all(p.consented for p in people)
    assert ZHAO_ID not in people[0].id_number_encrypted  # encrypted at rest
    assert decrypt_id_number(people[0].id_number_encrypted) == ZHAO_ID
    assert people[1].id_number_encrypted == ""
    stored_agent = Agent.objects.get(case=stored)
    assert stored_agent.power_of_attorney.case_id == stored.pk
    assert stored_agent.power_of_attorney.content_type == "application/pdf"
    assert case["agent"]["power_of_attorney"]["id"] == str(stored_agent.power_of_attorney_id)
    assert [p["name"] for p in case["co_complainants"]] == ["赵六", "孙七"]


def test_the_reply_to_a_joint_complaint_is_the_case_as_read(api, cast):
    case = file_joint(api, cast)
    again = api.as_user(cast.alice).get(f"/api/v1/cases/{case['number']}").json()
    assert again == case


def test_a_power_of_attorney_may_be_an_image(api, cast):
    document = upload(api, cast.alice)  # PNG
    body = complaint_body(agent=agent(document))
    response = api.as_user(cast.alice).post_json("/api/v1/complaints", body)
    assert response.status_code == 201, response.content
    assert response.json()["co_complainants"] == []


def test_a_complaint_without_parties_shows_none(api, cast):
    response = api.as_user(cast.alice).post_json("/api/v1/complaints", complaint_body())
    assert response.status_code == 201
    assert response.json()["co_complainants"] == []
    assert response.json()["agent"] is None


def test_o20_allows_five_representatives(api, cast):
    """A hotline agent records a call received before 2026-04-15: o20, five representatives."""
    people = [person(f"代表{i}", f"1390000002{i}", representative=True) for i in range(5)]
    body = complaint_body(
        on_behalf_of={"real_name": "王五", "phone": "13900000009", "address": "杭州市上城区"},
        channel="hotline",
        received_at="2026-03-02T09:30:00+08:00",
        occurred_on="2026-02-20",
        co_complainants=people,
    )
    response = api.as_user(cast.hank).post_json("/api/v1/complaints", body)
    assert response.status_code == 201, response.content
    assert response.json()["rules"] == "o20"
    assert CoComplainant.objects.filter(is_representative=True).count() == 5


# --- refusals: every problem named, nothing written ---------------------------------------------


def refused(api, user, body, path="/api/v1/complaints") -> dict[str, list[str]]:
    before = counts()
    response = api.as_user(user).post_json(path, body)
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] == "invalid"
    assert counts() == before
    return response.json()["error"]["fields"]


def test_a_co_complainant_must_consent(api, cast):
    body = complaint_body(co_complainants=[{"real_name": "赵六", "phone": "13900000011"}])
    fields = refused(api, cast.alice, body)
    assert "co_complainants.0.consent" in fields


def test_a_consent_of_false_is_refused(api, cast):
    body = complaint_body(co_complainants=[person(consent=False)])
    assert "co_complainants.0.consent" in refused(api, cast.alice, body)


def test_o121_allows_two_representatives_not_three(api, cast):
    people = [person(f"代表{i}", f"1390000002{i}", representative=True) for i in range(3)]
    fields = refused(api, cast.alice, complaint_body(co_complainants=people))
    assert fields["co_complainants"] == [
        "代表人最多2名（市场监督管理投诉举报处理办法 (总局令第121号)）。"
    ]


def test_o20_allows_five_representatives_not_six(api, cast):
    people = [person(f"代表{i}", f"1390000002{i}", representative=True) for i in range(6)]
    body = complaint_body(
        on_behalf_of={"real_name": "王五", "phone": "13900000009", "address": "杭州市上城区"},
        received_at="2026-03-02T09:30:00+08:00",
        occurred_on="2026-02-20",
        co_complainants=people,
    )
    fields = refused(api, cast.hank, body)
    assert "代表人最多5名" in fields["co_complainants"][0]


def test_at_most_twenty_co_complainants(api, cast):
    people = [person(f"人{i}", f"139000001{i:02d}") for i in range(21)]
    fields = refused(api, cast.alice, complaint_body(co_complainants=people))
    assert fields["co_complainants"] == ["共同投诉人最多20人。"]


def test_a_report_takes_no_co_complainants_nor_agent(api, cast):
    document = power_of_attorney(api, cast.alice)
    body = complaint_body(co_complainants=[person()], agent=agent(document))
    fields = refused(api, cast.alice, body, path="/api/v1/reports")
    assert set(fields) >= {"co_complainants", "agent"}


def test_bad_phones_and_id_numbers_are_named(api, cast):
    body = complaint_body(
        co_complainants=[
            person(phone="12345"),
            person("孙七", "13900000012", id_number="110101198001010013"),
        ]
    )
    fields = refused(api, cast.alice, body)
    assert fields["co_complainants.0.phone"] == ["电话号码格式不正确。"]
    assert fields["co_complainants.1.id_number"] == ["身份证号码校验位错误，请核对。"]


def test_names_and_phones_are_required(api, cast):
    fields = refused(api, cast.alice, complaint_body(co_complainants=[{"consent": True}]))
    assert {"co_complainants.0.real_name", "co_complainants.0.phone"} <= set(fields)


def test_the_same_person_twice_is_refused(api, cast):
    body = complaint_body(co_complainants=[person(), person("赵六六")])
    assert "co_complainants" in refused(api, cast.alice, body)


def test_the_filer_is_not_their_own_co_complainant(api, cast):
    body = complaint_body(co_complainants=[person(phone=cast.alice.phone)])
    assert "co_complainants" in refused(api, cast.alice, body)


def test_an_agent_without_power_of_attorney_is_refused(api, cast):
    body = complaint_body(agent={"real_name": "钱律师", "phone": "13900000099"})
    fields = refused(api, cast.alice, body)
    assert fields["agent.power_of_attorney"] == ["委托代理人投诉须提交授权委托书。"]


def test_a_power_of_attorney_must_be_an_image_or_pdf(api, cast):
    recording = power_of_attorney(api, cast.alice, content=MP3, name="录音.mp3")
    fields = refused(api, cast.alice, complaint_body(agent=agent(recording)))
    assert fields["agent.power_of_attorney"] == ["授权委托书应为图片或PDF文件。"]
    assert Attachment.objects.get(pk=recording).case_id is None


def test_someone_else_s_upload_is_no_power_of_attorney(api, cast):
    bobs = power_of_attorney(api, cast.bob)
    fields = refused(api, cast.alice, complaint_body(agent=agent(bobs)))
    assert "agent.power_of_attorney" in fields
    fields = refused(api, cast.alice, complaint_body(agent=agent("not-a-uuid")))
    assert fields["agent.power_of_attorney"] == ["授权委托书文件编号无效。"]


def test_a_bad_agent_phone_is_named(api, cast):
    document = power_of_attorney(api, cast.alice)
    fields = refused(api, cast.alice, complaint_body(agent=agent(document, phone="abc")))
    assert fields["agent.phone"] == ["电话号码格式不正确。"]


def test_a_refusal_elsewhere_leaves_the_parties_and_the_document_unwritten(api, cast):
    """Everything valid but the evidence: the case, its parties and the claimed power of
    attorney are rolled back together."""
    body = joint_body(api, cast, attachments=["00000000-0000-4000-8000-000000000000"])
    fields = refused(api, cast.alice, body)
    assert "attachments" in fields
    document = body["agent"]["power_of_attorney"]
    assert Attachment.objects.get(pk=document).case_id is None


def test_a_non_list_is_refused_with_a_clear_message(api, cast):
    response = api.as_user(cast.alice).post_json(
        "/api/v1/complaints", complaint_body(co_complainants={"real_name": "赵六"})
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"co_complainants": ["应为列表。"]}
    assert counts()["cases"] == 0


# --- who sees them ----------------------------------------------------------------------------


def test_the_handler_sees_phones_in_full_and_id_numbers_masked(api, cast):
    number = file_joint(api, cast)["number"]
    case = api.as_user(cast.ken).get(f"/api/v1/cases/{number}").json()
    zhao = case["co_complainants"][0]
    assert zhao["phone"] == "13900000011"
    assert zhao["id_number"] == "1101**********0010"
    assert zhao["representative"] is True and zhao["consent"] is True
    assert case["agent"]["phone"] == "13900000099"
    assert case["agent"]["power_of_attorney"]["id"] in [a["id"] for a in case["attachments"]]


def test_staff_higher_up_see_phones_masked(api, cast):
    number = file_joint(api, cast)["number"]
    case = api.as_user(cast.cathy).get(f"/api/v1/cases/{number}").json()
    assert case["co_complainants"][0]["phone"] == "139****0011"
    assert case["agent"]["phone"] == "139****0099"


def test_the_complainant_sees_their_parties_masked(api, cast):
    number = file_joint(api, cast)["number"]
    case = api.as_user(cast.alice).get(f"/api/v1/cases/{number}").json()
    assert [p["phone"] for p in case["co_complainants"]] == ["139****0011", "139****0012"]
    assert case["co_complainants"][0]["id_number"] == "1101**********0010"
    assert case["agent"]["name"] == "钱律师"


def test_the_business_never_sees_the_parties_nor_the_power_of_attorney(api, cast):
    created = file_joint(api, cast)
    document = created["agent"]["power_of_attorney"]["id"]
    response = api.as_user(cast.betty).get(f"/api/v1/cases/{created['number']}")
    assert response.status_code == 200  # the business sees the complaint itself
    case = response.json()
    assert case["co_complainants"] is None and case["agent"] is None
    assert document not in [a["id"] for a in case["attachments"]]
    assert "赵六" not in response.content.decode()
    assert "钱律师" not in response.content.decode()


def test_only_those_who_see_the_parties_download_the_power_of_attorney(api, cast):
    created = file_joint(api, cast)
    url = created["agent"]["power_of_attorney"]["url"]

    assert api.as_user(cast.betty).get(url).status_code == 404  # the business, by its id
    assert api.as_user(cast.alice).get(url).status_code == 200  # the complainant
    assert api.as_user(cast.ken).get(url).status_code == 200  # the handler


def test_staff_of_another_unit_and_anonymous_callers_see_nothing(api, cast):
    number = file_joint(api, cast)["number"]
    assert api.as_user(cast.nick).get(f"/api/v1/cases/{number}").status_code == 404
    assert api.as_user(cast.bob).get(f"/api/v1/cases/{number}").status_code == 404
    assert api.as_user(None).get(f"/api/v1/cases/{number}").status_code == 401


# --- filing through the web form --------------------------------------------------------------


@pytest.fixture
def alice(client, cast):
    client.force_login(cast.alice)
    return client


def pdf_file(name="委托书.pdf", content=PDF):
    return SimpleUploadedFile(name, content, "application/pdf")


def parties_step(**changes) -> dict:
    data = {
        "co_rows": "2",
        "co_0_name": "赵六",
        "co_0_phone": "13900000011",
        "co_0_id_number": ZHAO_ID,
        "co_0_consent": "on",
        "co_0_representative": "on",
        "co_1_name": "孙七",
        "co_1_phone": "13900000012",
        "co_1_consent": "on",
        "agent_name": "钱律师",
        "agent_phone": "13900000099",
        "power_of_attorney": pdf_file(),
        "nav": "next",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def walk_to_parties(client) -> None:
    from tests.test_portal_submission import details_step, respondent_step

    assert client.post("/complaints/new/", respondent_step()).status_code == 302
    assert client.post("/complaints/new/department/", {"department": "330106"}).status_code == 302
    response = client.post("/complaints/new/details/", details_step())
    assert response.status_code == 302
    assert response["Location"] == "/complaints/new/parties/"


def confirm_page(client):
    from tests.test_portal_submission import HOME_ADDRESS, token_of

    token = token_of(client.get("/complaints/new/confirm/"))
    return client.post(
        "/complaints/new/confirm/",
        {"token": token, "contact_address": HOME_ADDRESS, "nav": "next"},
    )


def test_a_consumer_files_a_joint_complaint_through_the_web_form(alice, cast):
    walk_to_parties(alice)
    response = alice.post("/complaints/new/parties/", parties_step())
    assert response.status_code == 302, response.content.decode()
    summary = alice.get("/complaints/new/confirm/").content.decode()
    assert "赵六" in summary and "钱律师" in summary and "委托书.pdf" in summary

    response = confirm_page(alice)

    case = Case.objects.get()
    assert response["Location"] == f"/my/cases/{case.number}/"
    people = CoComplainant.objects.filter(case=case)
    assert [(p.real_name, p.is_representative) for p in people] == [("赵六", True), ("孙七", False)]
    assert decrypt_id_number(people[0].id_number_encrypted) == ZHAO_ID
    assert Agent.objects.get(case=case).power_of_attorney.name == "委托书.pdf"
    page = alice.get(response["Location"]).content.decode()
    assert "赵六" in page and "139****0011" in page and "1101**********0010" in page
    assert "13900000011" not in page  # the complainant's page masks the others' phones


def test_the_draft_keeps_id_numbers_encrypted(alice, cast):
    walk_to_parties(alice)
    alice.post("/complaints/new/parties/", parties_step())
    draft = alice.session["portal.drafts"]["complaint"]["data"]
    assert ZHAO_ID not in str(draft)
    assert ZHAO_ID in alice.get("/complaints/new/parties/").content.decode()  # shown again


def test_the_form_names_a_missing_consent_at_its_row(alice, cast):
    walk_to_parties(alice)
    alice.post("/complaints/new/parties/", parties_step(co_1_consent=None))
    before = counts()

    response = confirm_page(alice)

    assert response["Location"] == "/complaints/new/parties/"
    assert counts() == before
    page = alice.get("/complaints/new/parties/").content.decode()
    assert "共同投诉须经每位共同投诉人同意" in page


def test_the_form_refuses_three_representatives_above_the_form(alice, cast):
    walk_to_parties(alice)
    extra = {
        "co_rows": "3",
        "co_1_representative": "on",
        "co_2_name": "周八",
        "co_2_phone": "13900000013",
        "co_2_consent": "on",
        "co_2_representative": "on",
    }
    alice.post("/complaints/new/parties/", parties_step(**extra))
    before = counts()

    response = confirm_page(alice)

    assert response["Location"] == "/complaints/new/parties/"
    assert counts() == before
    assert "代表人最多2名" in alice.get("/complaints/new/parties/").content.decode()


def test_the_form_wants_a_power_of_attorney_for_an_agent(alice, cast):
    walk_to_parties(alice)
    alice.post("/complaints/new/parties/", parties_step(power_of_attorney=None))
    before = counts()

    response = confirm_page(alice)

    assert response["Location"] == "/complaints/new/parties/"
    assert counts() == before
    assert (
        "委托代理人投诉须提交授权委托书" in alice.get("/complaints/new/parties/").content.decode()
    )


def test_the_form_refuses_a_recording_as_power_of_attorney(alice, cast):
    walk_to_parties(alice)
    recording = SimpleUploadedFile("录音.mp3", MP3, "audio/mpeg")
    response = alice.post("/complaints/new/parties/", parties_step(power_of_attorney=recording))
    assert response.status_code == 200
    assert "授权委托书应为图片或PDF文件" in response.content.decode()


def test_the_form_names_a_begun_row_without_a_phone(alice, cast):
    walk_to_parties(alice)
    response = alice.post("/complaints/new/parties/", parties_step(co_1_phone=""))
    assert response.status_code == 200
    assert "第2位 联系电话" in response.content.decode()


def test_one_more_row_is_added_without_javascript(alice, cast):
    walk_to_parties(alice)
    response = alice.post("/complaints/new/parties/", parties_step(nav="add_row"))
    assert response["Location"] == "/complaints/new/parties/"
    page = alice.get("/complaints/new/parties/").content.decode()
    assert 'name="co_2_name"' in page and 'name="co_3_name"' not in page


def test_the_parties_step_is_optional(alice, cast):
    walk_to_parties(alice)
    response = alice.post("/complaints/new/parties/", {"nav": "next"})
    assert response["Location"] == "/complaints/new/confirm/"
    confirm_page(alice)
    assert CoComplainant.objects.count() == 0 and Agent.objects.count() == 0
    assert Case.objects.count() == 1


def test_reports_have_no_parties_step(alice, cast):
    assert alice.get("/reports/new/parties/").status_code == 404


# --- the case pages -----------------------------------------------------------------------------


def test_the_workbench_payload_carries_the_parties_for_the_handler(client, api, cast):
    from workbench.pages import case_context

    number = file_joint(api, cast)["number"]
    payload = case_context(Case.objects.get(number=number), cast.ken)["payload"]
    assert payload["co_complainants"][0]["phone"] == "13900000011"
    assert payload["agent"]["name"] == "钱律师"


def test_the_handlers_workbench_page_shows_the_parties(client, api, cast):
    number = file_joint(api, cast)["number"]
    client.force_login(cast.ken)

    html = client.get(f"/staff/cases/{number}/").content.decode()

    assert "共同投诉人与代理人" in html
    assert "赵六" in html and "13900000011" in html and "钱律师" in html
    assert ZHAO_ID not in html  # the ID number stays masked, even for the handler


def test_the_parties_section_renders_masked_for_staff_higher_up(api, cast):
    from django.template.loader import render_to_string

    from cases.presenters import case_payload

    number = file_joint(api, cast)["number"]
    payload = case_payload(Case.objects.get(number=number), cast.cathy)
    html = render_to_string(
        "parties/case_parties.html",
        {"co_complainants": payload["co_complainants"], "agent": payload["agent"]},
    )
    assert "赵六" in html and "139****0011" in html and "13900000011" not in html
    assert "1101**********0010" in html and ZHAO_ID not in html
