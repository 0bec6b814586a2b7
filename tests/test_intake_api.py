"""Filing complaints, reports and consultations through the API (cases.intake)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from businesses.models import Business
from cases.models import Attachment, Case, CaseEvent, ClockKind, Deadline, Status
from cases.rules import local_date
from workdays.calendar import add_working_days

WEB_ADDRESS = "杭州市西湖区文一路1号"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"


@pytest.fixture(autouse=True)
def media_and_cache(settings, tmp_path):
    """Evidence goes to a temporary MEDIA_ROOT; rate-limit counters start at zero."""
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()


def complaint_body(**overrides):
    body = {
        "department": "330106",
        "contact_address": WEB_ADDRESS,
        "respondent": {
            "name": "杭州好运来电器有限公司",
            "uscc": "91330106MA2H7KQ4L5",
            "address": "杭州市西湖区文三路90号",
        },
        "category": "G01",
        "amount": "199.00",
        "occurred_on": "2026-09-20",
        "facts": "在该店购买的电饭煲使用三天后无法加热。",
        "demand": "退货退款。",
    }
    body.update(overrides)
    return body


def caller(**overrides):
    person = {"real_name": "王五", "phone": "13900000009", "address": "杭州市上城区解放路1号"}
    person.update(overrides)
    return person


def upload(api, user, content=PNG, name="receipt.png"):
    response = api.as_user(user).post(
        "/api/v1/attachments", {"file": SimpleUploadedFile(name, content, "image/png")}
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def today() -> dt.date:
    return local_date(timezone.now())


def counts() -> dict[str, int]:
    return {
        "cases": Case.objects.count(),
        "events": CaseEvent.objects.count(),
        "deadlines": Deadline.objects.count(),
        "businesses": Business.objects.count(),
        "attached": Attachment.objects.filter(case__isnull=False).count(),
    }


# --- complaints ----------------------------------------------------------------------------


def test_a_consumer_files_a_complaint_and_gets_the_case(api, cast):
    response = api.as_user(cast.alice).post_json("/api/v1/complaints", complaint_body())

    assert response.status_code == 201
    case = response.json()
    assert re.fullmatch(rf"T{today():%Y%m%d}\d{{8,}}", case["number"])
    assert case["kind"] == "complaint"
    assert case["status"] == "submitted"
    assert case["rules"] == "o121"
    assert case["channel"] == "web"
    assert case["department"] == {
        "code": "330106",
        "name": "西湖区",
        "level": "county",
        "bureau": "杭州市西湖区市场监督管理局",
    }
    assert case["received_at"].endswith("+08:00")
    assert case["party"] == {"name": "张爱丽", "phone": "13800000001", "address": WEB_ADDRESS}
    assert case["amount"] == "199.00"
    assert case["category"] == "G01"
    assert case["category_name"] == "家用电器"
    assert [event["action"] for event in case["timeline"]] == ["submit"]
    assert case["timeline"][0]["by"] == "投诉人"
    assert "withdraw" in case["allowed_actions"]
    assert case["version"] == 1


def test_a_complaint_lands_at_its_department_with_a_seven_working_day_accept_clock(api, cast):
    number = (
        api.as_user(cast.alice).post_json("/api/v1/complaints", complaint_body()).json()["number"]
    )

    case = Case.objects.get(number=number)
    assert case.department_id == "330106"
    assert case.status == Status.SUBMITTED
    assert case.consumer == cast.alice
    assert case.created_by == cast.alice
    clock = case.deadlines.get()
    assert clock.kind == ClockKind.ACCEPT
    assert clock.department_id == "330106"
    assert clock.started_on == today()
    assert clock.due == add_working_days(today(), 7)
    event = case.events.get()
    assert (event.action, event.actor, event.department_id) == ("submit", cast.alice, "330106")
    assert event.visibility == "public"


def test_the_respondent_is_the_known_business_with_that_code(api, cast):
    number = (
        api.as_user(cast.alice).post_json("/api/v1/complaints", complaint_body()).json()["number"]
    )
    assert Case.objects.get(number=number).respondent == cast.shop
    assert Business.objects.count() == 1


def test_a_respondent_without_a_code_is_recorded_once_and_found_by_name(api, cast):
    respondent = {"name": "西湖小吃店", "address": "杭州市西湖区北山街1号"}
    api.as_user(cast.alice).post_json("/api/v1/complaints", complaint_body(respondent=respondent))
    api.as_user(cast.bob).post_json("/api/v1/complaints", complaint_body(respondent=respondent))

    businesses = Business.objects.filter(name="西湖小吃店")
    assert businesses.count() == 1
    assert Case.objects.filter(respondent=businesses.get()).count() == 2


def test_a_respondent_with_an_unknown_code_is_recorded_with_it(api, cast):
    respondent = {"name": "杭州新开张电器店", "uscc": "91330106MA2NEW0001", "address": "文二路1号"}
    client = api.as_user(cast.alice)
    client.post_json("/api/v1/complaints", complaint_body(respondent=respondent))
    client.post_json("/api/v1/complaints", complaint_body(respondent=respondent))

    business = Business.objects.get(uscc="91330106MA2NEW0001")
    assert (business.name, business.address) == ("杭州新开张电器店", "文二路1号")
    assert Case.objects.filter(respondent=business).count() == 2


def test_a_name_two_businesses_share_is_recorded_anew(api, cast):
    Business.objects.create(name="西湖小吃店", address="北山街1号")
    Business.objects.create(name="西湖小吃店", address="北山街2号")
    respondent = {"name": "西湖小吃店", "address": "杭州市西湖区北山街3号"}

    response = api.as_user(cast.alice).post_json(
        "/api/v1/complaints", complaint_body(respondent=respondent)
    )

    case = Case.objects.get(number=response.json()["number"])
    assert case.respondent is not None
    assert case.respondent.address == "杭州市西湖区北山街3号"
    assert Business.objects.filter(name="西湖小吃店").count() == 3


def test_a_consumer_may_say_they_used_the_app(api, cast):
    response = api.as_user(cast.alice).post_json(
        "/api/v1/complaints", complaint_body(channel="app")
    )
    assert response.status_code == 201
    assert response.json()["channel"] == "app"


def test_evidence_uploaded_first_goes_onto_the_case(api, cast):
    attachment_id = upload(api, cast.alice)

    response = api.as_user(cast.alice).post_json(
        "/api/v1/complaints", complaint_body(attachments=[attachment_id])
    )

    assert response.status_code == 201
    assert [a["id"] for a in response.json()["attachments"]] == [attachment_id]
    assert Attachment.objects.get(pk=attachment_id).case.number == response.json()["number"]


@pytest.mark.parametrize(
    "field",
    ["department", "contact_address", "respondent.name", "respondent.address", "facts", "demand"],
)
def test_a_complaint_missing_required_material_is_refused_with_that_field(api, cast, field):
    body = complaint_body()
    if "." in field:
        parent, child = field.split(".")
        body[parent] = {k: v for k, v in body[parent].items() if k != child}
    else:
        del body[field]

    response = api.as_user(cast.alice).post_json("/api/v1/complaints", body)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == [field]


def test_blank_text_counts_as_missing(api, cast):
    response = api.as_user(cast.alice).post_json(
        "/api/v1/complaints", complaint_body(facts="   ", demand="")
    )
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"facts", "demand"}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": "-1"}, "amount"),
        ({"amount": "1.234"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"amount": "1e20"}, "amount"),
        ({"occurred_on": "2026-13-01"}, "occurred_on"),
        ({"occurred_on": "2999-01-01"}, "occurred_on"),
        ({"occurred_on": "20260920"}, "occurred_on"),  # the API writes dates YYYY-MM-DD only
        ({"occurred_on": "2026-W38-7"}, "occurred_on"),
        ({"facts": "\u202e\u200b"}, "facts"),  # nothing visible: as empty
        ({"demand": "\ufeff \u200e"}, "demand"),
        ({"category": "X99"}, "category"),
        ({"category": "G"}, "category"),
        ({"channel": "fax"}, "channel"),
        ({"facts": "很" * 5001}, "facts"),
        ({"demand": "要" * 2001}, "demand"),
        ({"contact_address": "址" * 301}, "contact_address"),
        ({"attachments": ["not-a-uuid"]}, "attachments"),
        (
            {"respondent": {"name": "某店", "address": "某地", "uscc": "12345"}},
            "respondent.uscc",
        ),
        (
            {"respondent": {"name": "某店", "address": "某地", "platform": {"name": "台" * 201}}},
            "respondent.platform.name",
        ),
    ],
)
def test_invalid_values_are_refused_with_the_field_named(api, cast, overrides, field):
    response = api.as_user(cast.alice).post_json("/api/v1/complaints", complaint_body(**overrides))

    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == [field]


def test_whole_numbers_are_accepted_as_amounts(api, cast):
    response = api.as_user(cast.alice).post_json("/api/v1/complaints", complaint_body(amount=15))
    assert response.status_code == 201
    assert response.json()["amount"] == "15.00"


def test_more_than_ten_attachments_are_refused(api, cast):
    ids = [f"00000000-0000-4000-8000-{n:012d}" for n in range(11)]
    response = api.as_user(cast.alice).post_json(
        "/api/v1/complaints", complaint_body(attachments=ids)
    )
    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["attachments"]


def test_every_problem_is_reported_at_once(api, cast):
    response = api.as_user(cast.alice).post_json(
        "/api/v1/complaints", {"department": "330106", "amount": "x"}
    )
    assert set(response.json()["error"]["fields"]) == {
        "contact_address",
        "respondent.name",
        "respondent.address",
        "facts",
        "demand",
        "amount",
    }


# --- departments ---------------------------------------------------------------------------


def test_an_unknown_department_is_refused(api, cast):
    response = api.as_user(cast.alice).post_json(
        "/api/v1/complaints", complaint_body(department="999999")
    )
    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["department"]


@pytest.mark.parametrize("code", ["330106001", "330100", "330000", "100000"])
def test_a_complaint_goes_to_a_county_level_department_only(api, cast, code):
    response = api.as_user(cast.alice).post_json(
        "/api/v1/complaints", complaint_body(department=code)
    )
    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["department"]
    assert Case.objects.count() == 0


def test_a_complaint_at_the_neighbouring_county_is_fine(api, cast):
    response = api.as_user(cast.alice).post_json(
        "/api/v1/complaints", complaint_body(department="330102")
    )
    assert response.status_code == 201
    assert response.json()["department"]["code"] == "330102"


# --- hotline -------------------------------------------------------------------------------


def test_a_hotline_agent_files_for_a_caller_received_earlier(api, cast):
    body = complaint_body(
        on_behalf_of=caller(),
        channel="hotline",
        received_at="2026-09-30T10:00:00+08:00",
    )

    response = api.as_user(cast.hank).post_json("/api/v1/complaints", body)

    assert response.status_code == 201
    case = response.json()
    assert case["number"].startswith("T20260930")
    assert case["channel"] == "hotline"
    assert case["received_at"] == "2026-09-30T10:00:00+08:00"
    assert case["party"]["name"] == "王五"
    accept = case["deadlines"][0]
    assert (accept["kind"], accept["due"]) == ("accept", "2026-10-15")
    stored = Case.objects.get(number=case["number"])
    assert stored.consumer is None
    assert stored.created_by == cast.hank
    assert stored.party_phone == "13900000009"
    assert stored.events.get().actor == cast.hank


def test_a_hotline_entry_defaults_to_the_hotline_channel_and_now(api, cast):
    before = timezone.now()
    response = api.as_user(cast.hank).post_json(
        "/api/v1/complaints", complaint_body(on_behalf_of=caller())
    )
    assert response.status_code == 201
    stored = Case.objects.get(number=response.json()["number"])
    assert stored.channel == "hotline"
    assert stored.received_at >= before


def test_the_callers_address_may_come_from_contact_address(api, cast):
    response = api.as_user(cast.hank).post_json(
        "/api/v1/complaints", complaint_body(on_behalf_of=caller(address=""))
    )
    assert response.status_code == 201
    assert response.json()["party"]["address"] == WEB_ADDRESS


def test_a_received_at_in_the_future_is_refused(api, cast):
    later = (timezone.now() + dt.timedelta(days=1)).isoformat()
    response = api.as_user(cast.hank).post_json(
        "/api/v1/complaints", complaint_body(on_behalf_of=caller(), received_at=later)
    )
    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["received_at"]


@pytest.mark.parametrize("written", ["20260930T100000+0800", "2026-W40-3T10:00"])
def test_a_received_at_not_written_as_the_api_writes_moments_is_refused(api, cast, written):
    response = api.as_user(cast.hank).post_json(
        "/api/v1/complaints", complaint_body(on_behalf_of=caller(), received_at=written)
    )
    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["received_at"]


def test_an_unreadable_received_at_is_refused(api, cast):
    response = api.as_user(cast.hank).post_json(
        "/api/v1/complaints", complaint_body(on_behalf_of=caller(), received_at="yesterday")
    )
    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["received_at"]


def test_an_agent_must_say_who_called(api, cast):
    response = api.as_user(cast.hank).post_json("/api/v1/complaints", complaint_body())
    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["on_behalf_of"]


@pytest.mark.parametrize(
    ("person", "field"),
    [
        ({"real_name": ""}, "on_behalf_of.real_name"),
        ({"phone": ""}, "on_behalf_of.phone"),
        ({"phone": "12345"}, "on_behalf_of.phone"),
    ],
)
def test_the_callers_details_are_checked(api, cast, person, field):
    response = api.as_user(cast.hank).post_json(
        "/api/v1/complaints", complaint_body(on_behalf_of=caller(**person))
    )
    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == [field]


def test_a_caller_needs_an_address_somewhere(api, cast):
    body = complaint_body(on_behalf_of=caller(address=""))
    del body["contact_address"]
    response = api.as_user(cast.hank).post_json("/api/v1/complaints", body)
    assert list(response.json()["error"]["fields"]) == ["on_behalf_of.address"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"on_behalf_of": {"real_name": "王五", "phone": "13900000009", "address": "某地"}},
        {"channel": "hotline"},
        {"channel": "12345"},
        {"received_at": "2026-09-30T10:00:00+08:00"},
    ],
)
def test_a_consumer_cannot_use_the_hotline_only_fields(api, cast, overrides):
    response = api.as_user(cast.alice).post_json("/api/v1/complaints", complaint_body(**overrides))

    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == list(overrides)
    assert Case.objects.count() == 0


# --- who may file --------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["ken", "betty"])
def test_only_real_name_consumers_and_agents_file(api, cast, who):
    response = api.as_user(getattr(cast, who)).post_json("/api/v1/complaints", complaint_body())
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "real_name_required"


def test_filing_needs_a_signed_in_caller(api, cast):
    response = api.post_json("/api/v1/complaints", complaint_body())
    assert response.status_code == 401


def test_an_unverified_account_cannot_file(api, cast):
    cast.bob.is_verified = False
    cast.bob.save()
    response = api.as_user(cast.bob).post_json("/api/v1/complaints", complaint_body())
    assert response.status_code == 403


# --- malformed bodies ----------------------------------------------------------------------


@pytest.mark.parametrize("raw", ['{"department": "330106",', "[1, 2]", '"text"', "not json"])
def test_a_body_that_is_not_a_json_object_is_400(api, cast, raw):
    response = api.as_user(cast.alice).post(
        "/api/v1/complaints", raw, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed"


def test_a_wrongly_typed_field_is_422_not_500(api, cast):
    response = api.as_user(cast.alice).post_json(
        "/api/v1/complaints", complaint_body(respondent="某店")
    )
    assert response.status_code == 422
    assert all(name.startswith("respondent") for name in response.json()["error"]["fields"])


# --- nothing left behind -------------------------------------------------------------------


def test_a_refused_submission_leaves_nothing_behind(api, cast):
    own = upload(api, cast.alice)
    someone_elses = upload(api, cast.bob)
    before = counts()
    body = complaint_body(
        respondent={"name": "新开的店", "uscc": "91330106MA2YYYYYY2", "address": "某地"},
        attachments=[own, someone_elses],
    )

    response = api.as_user(cast.alice).post_json("/api/v1/complaints", body)

    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["attachments"]
    assert counts() == before
    assert Attachment.objects.get(pk=own).case is None
    assert not Business.objects.filter(uscc="91330106MA2YYYYYY2").exists()


def test_an_upload_cannot_go_onto_two_cases(api, cast):
    own = upload(api, cast.alice)
    first = api.as_user(cast.alice).post_json(
        "/api/v1/complaints", complaint_body(attachments=[own])
    )
    assert first.status_code == 201

    second = api.as_user(cast.alice).post_json(
        "/api/v1/complaints", complaint_body(attachments=[own], facts="另一件事。")
    )

    assert second.status_code == 422
    assert list(second.json()["error"]["fields"]) == ["attachments"]


# --- reports and consultations -------------------------------------------------------------


def test_a_consumer_files_a_report_where_the_act_occurred(api, cast):
    body = complaint_body(department="330100", notify_me=True)
    del body["demand"]

    response = api.as_user(cast.alice).post_json("/api/v1/reports", body)

    assert response.status_code == 201
    case = response.json()
    assert re.fullmatch(rf"J{today():%Y%m%d}\d{{8,}}", case["number"])
    assert case["kind"] == "report"
    assert case["status"] == "submitted"
    assert case["department"]["code"] == "330100"
    assert case["notify_me"] is True
    assert case["deadlines"][0]["kind"] == "accept"
    assert case["deadlines"][0]["due"] == add_working_days(today(), 7).isoformat()


def test_a_report_cannot_go_to_a_station(api, cast):
    response = api.as_user(cast.alice).post_json(
        "/api/v1/reports", complaint_body(department="330106001")
    )
    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["department"]


def test_a_report_needs_facts_and_whom_it_is_about(api, cast):
    response = api.as_user(cast.alice).post_json(
        "/api/v1/reports", {"department": "330106", "contact_address": WEB_ADDRESS}
    )
    assert set(response.json()["error"]["fields"]) == {
        "respondent.name",
        "respondent.address",
        "facts",
    }


def test_notify_me_must_be_a_boolean(api, cast):
    response = api.as_user(cast.alice).post_json(
        "/api/v1/reports", complaint_body(notify_me="maybe")
    )
    assert response.status_code == 422
    assert "notify_me" in response.json()["error"]["fields"]


def test_a_consumer_asks_a_question(api, cast):
    response = api.as_user(cast.alice).post_json(
        "/api/v1/consultations", {"department": "330106", "question": "网购七天无理由退货怎么算？"}
    )

    assert response.status_code == 201
    case = response.json()
    assert re.fullmatch(rf"Z{today():%Y%m%d}\d{{8,}}", case["number"])
    assert case["kind"] == "consultation"
    assert case["question"] == "网购七天无理由退货怎么算？"
    assert case["respondent"] is None
    assert case["deadlines"][0]["kind"] == "answer"
    assert case["party"]["name"] == "张爱丽"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"department": "330106"}, "question"),
        ({"question": "怎么办？"}, "department"),
        ({"department": "330106001", "question": "怎么办？"}, "department"),
    ],
)
def test_a_consultation_needs_a_county_and_a_question(api, cast, body, field):
    response = api.as_user(cast.alice).post_json("/api/v1/consultations", body)
    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == [field]


def test_case_numbers_are_unique_and_grow(api, cast):
    numbers = [
        api.as_user(cast.alice)
        .post_json("/api/v1/complaints", complaint_body(facts=f"第{n}件。"))
        .json()["number"]
        for n in range(3)
    ]
    assert len(set(numbers)) == 3
    assert numbers == sorted(numbers)
    assert not Case.objects.filter(number__startswith="tmp-").exists()


def test_the_submit_note_is_recorded_in_chinese_whatever_the_callers_language(api, cast):
    from cases.models import CaseEvent

    response = api.as_user(cast.alice).post_json(
        "/api/v1/consultations",
        {"department": "330106", "question": "请问退货规定？"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 201
    event = CaseEvent.objects.get(case__number=response.json()["number"], action="submit")
    assert event.note == "经网站提交"


def test_a_problem_names_the_field_in_the_callers_language(api, cast):
    response = api.as_user(cast.alice).post_json(
        "/api/v1/complaints", complaint_body(facts=" "), HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 422
    assert response.json()["error"]["fields"]["facts"] == ["Please fill in What happened."]
