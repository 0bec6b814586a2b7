"""The filing complainant as a representative (代表人) of a joint complaint (o121 Art. 12):
counted in the limit with the co-complainants marked, refused without co-complainants, shown to
those who see the parties only, and offered on the portal's parties step and the hotline desk.

Every refusal has its success twin, so a broken fixture cannot make a refusal pass.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache

from cases.models import Case
from parties.models import CoComplainant, FilerRepresentative
from tests.test_hotline import DESK, call, signed_in, token_of
from tests.test_hotline_parties import row
from tests.test_intake_api import complaint_body
from tests.test_joint_complaints import (
    confirm_page,
    counts,
    parties_step,
    person,
    walk_to_parties,
)

pytestmark = pytest.mark.django_db

O121_LIMIT = (
    "代表人最多2名（市场监督管理投诉举报处理办法 (总局令第121号)），"
    "投诉人本人担任代表人也计入其中。"
)
ALONE = "只有共同投诉才能由投诉人担任代表人，请先添加共同投诉人。"


@pytest.fixture(autouse=True)
def media_and_cache(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()


def representatives(n: int) -> list[dict]:
    return [person(f"代表{i}", f"1390000002{i}", representative=True) for i in range(n)]


def filed(api, user, body) -> dict:
    response = api.as_user(user).post_json("/api/v1/complaints", body)
    assert response.status_code == 201, response.content
    return response.json()


def refused(api, user, body) -> dict[str, list[str]]:
    before = (counts(), FilerRepresentative.objects.count())
    response = api.as_user(user).post_json("/api/v1/complaints", body)
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] == "invalid"
    assert (counts(), FilerRepresentative.objects.count()) == before
    return response.json()["error"]["fields"]


# --- the API ----------------------------------------------------------------------------------


def test_the_filer_and_one_co_complainant_are_two_representatives(api, cast):
    body = complaint_body(co_complainants=representatives(1), filer_representative=True)

    case = filed(api, cast.alice, body)

    stored = Case.objects.get(number=case["number"])
    assert FilerRepresentative.objects.filter(case=stored).count() == 1
    assert case["filer_representative"] is True
    again = api.as_user(cast.alice).get(f"/api/v1/cases/{case['number']}").json()
    assert again == case  # the reply is the case as read


def test_the_filer_and_two_co_complainants_are_three_too_many_under_o121(api, cast):
    body = complaint_body(co_complainants=representatives(2), filer_representative=True)
    fields = refused(api, cast.alice, body)
    assert fields == {"filer_representative": [O121_LIMIT]}


def test_o20_counts_the_filer_among_five(api, cast):
    caller = {"real_name": "王五", "phone": "13900000009", "address": "杭州市上城区"}
    before_o121 = {
        "on_behalf_of": caller,
        "channel": "hotline",
        "received_at": "2026-03-02T09:30:00+08:00",
        "occurred_on": "2026-02-20",
    }
    four = complaint_body(
        co_complainants=representatives(4), filer_representative=True, **before_o121
    )
    assert filed(api, cast.hank, four)["filer_representative"] is True

    five = complaint_body(
        co_complainants=representatives(5), filer_representative=True, **before_o121
    )
    assert "代表人最多5名" in refused(api, cast.hank, five)["filer_representative"][0]


def test_too_many_co_complainants_alone_stay_the_list_s_problem(api, cast):
    body = complaint_body(co_complainants=representatives(3), filer_representative=True)
    fields = refused(api, cast.alice, body)
    assert "co_complainants" in fields and "filer_representative" not in fields


def test_the_filer_alone_is_no_representative(api, cast):
    fields = refused(api, cast.alice, complaint_body(filer_representative=True))
    assert fields == {"filer_representative": [ALONE]}


def test_false_without_co_complainants_is_the_default(api, cast):
    case = filed(api, cast.alice, complaint_body(filer_representative=False))
    assert case["filer_representative"] is False
    assert not FilerRepresentative.objects.exists()


@pytest.mark.parametrize("value", ["true", 1, "yes", [True]])
def test_a_non_boolean_is_refused(api, cast, value):
    body = complaint_body(co_complainants=representatives(1), filer_representative=value)
    before = (counts(), FilerRepresentative.objects.count())
    response = api.as_user(cast.alice).post_json("/api/v1/complaints", body)
    assert response.status_code == 422, response.content
    assert "filer_representative" in response.json()["error"]["fields"]
    assert (counts(), FilerRepresentative.objects.count()) == before


def test_a_report_has_no_representative(api, cast):
    body = complaint_body(co_complainants=representatives(1), filer_representative=True)
    response = api.as_user(cast.alice).post_json("/api/v1/reports", body)
    assert response.status_code == 422
    assert "filer_representative" in response.json()["error"]["fields"]


def test_only_those_who_see_the_parties_see_it(api, cast):
    body = complaint_body(co_complainants=representatives(1), filer_representative=True)
    number = filed(api, cast.alice, body)["number"]

    def seen(user):
        return api.as_user(user).get(f"/api/v1/cases/{number}").json()["filer_representative"]

    assert seen(cast.alice) is True  # the complainant
    assert seen(cast.ken) is True  # the handler
    assert seen(cast.betty) is None  # the business complained about


def test_a_joint_complaint_without_it_says_false(api, cast):
    case = filed(api, cast.alice, complaint_body(co_complainants=representatives(1)))
    assert case["filer_representative"] is False
    assert (
        api.as_user(cast.betty)
        .get(f"/api/v1/cases/{case['number']}")
        .json()["filer_representative"]
        is None
    )


def test_the_parties_card_says_so(api, cast):
    from django.template.loader import render_to_string

    from cases.presenters import case_payload

    body = complaint_body(co_complainants=representatives(1), filer_representative=True)
    number = filed(api, cast.alice, body)["number"]
    payload = case_payload(Case.objects.get(number=number), cast.ken)
    html = render_to_string("parties/case_parties.html", payload)
    assert "投诉人为代表人" in html
    payload["filer_representative"] = False
    assert "投诉人为代表人" not in render_to_string("parties/case_parties.html", payload)


# --- the portal's parties step ------------------------------------------------------------------


@pytest.fixture
def alice(client, cast):
    client.force_login(cast.alice)
    return client


def test_the_portal_offers_the_box_and_files_it(alice, cast):
    walk_to_parties(alice)
    assert "本人担任代表人" in alice.get("/complaints/new/parties/").content.decode()
    response = alice.post("/complaints/new/parties/", parties_step(filer_representative="on"))
    assert response.status_code == 302, response.content.decode()
    assert "本人担任代表人" in alice.get("/complaints/new/confirm/").content.decode()

    response = confirm_page(alice)

    case = Case.objects.get()
    assert response["Location"] == f"/my/cases/{case.number}/"
    assert FilerRepresentative.objects.filter(case=case).exists()
    assert "投诉人为代表人" in alice.get(response["Location"]).content.decode()


def test_the_portal_names_the_box_without_co_complainants(alice, cast):
    walk_to_parties(alice)
    empty = {f"co_{i}_{f}": None for i in (0, 1) for f in ("name", "phone", "id_number")}
    data = parties_step(filer_representative="on", co_0_consent=None, co_1_consent=None, **empty)
    data.pop("co_0_representative")

    response = alice.post("/complaints/new/parties/", data)

    assert response.status_code == 200
    assert ALONE in response.content.decode()
    assert not Case.objects.exists()


def test_the_portal_names_one_representative_too_many_at_the_box(alice, cast):
    walk_to_parties(alice)
    data = parties_step(filer_representative="on", co_1_representative="on")
    assert alice.post("/complaints/new/parties/", data).status_code == 302

    response = confirm_page(alice)

    assert response["Location"] == "/complaints/new/parties/"
    assert not Case.objects.exists()
    assert O121_LIMIT in alice.get("/complaints/new/parties/").content.decode()


# --- the hotline desk ---------------------------------------------------------------------------


@pytest.fixture
def hank(cast):
    return signed_in(cast.hank)


def test_the_desk_offers_the_box_and_files_it(hank):
    token = token_of(hank.get(DESK))
    assert "来电人担任代表人" in hank.get(DESK).content.decode()
    data = call(
        token,
        co_rows="1",
        filer_representative="on",
        **row(0, "赵六", "13900000011", representative="on"),
    )

    response = hank.post(DESK, data, follow=True)

    case = Case.objects.get()
    assert FilerRepresentative.objects.filter(case=case).exists()
    assert CoComplainant.objects.filter(case=case, is_representative=True).count() == 1
    assert "来电人担任代表人。" in response.content.decode()


def test_the_desk_names_the_box_without_co_complainants(hank):
    token = token_of(hank.get(DESK))

    response = hank.post(DESK, call(token, filer_representative="on"))

    assert response.status_code == 422
    assert ALONE in response.content.decode()
    assert not Case.objects.exists()


def test_the_desk_counts_the_caller_in_the_limit(hank):
    token = token_of(hank.get(DESK))
    data = call(
        token,
        co_rows="2",
        filer_representative="on",
        **row(0, "赵六", "13900000011", representative="on"),
        **row(1, "孙七", "13900000012", representative="on"),
    )

    response = hank.post(DESK, data)

    assert response.status_code == 422
    assert O121_LIMIT in response.content.decode()
    assert not Case.objects.exists()
