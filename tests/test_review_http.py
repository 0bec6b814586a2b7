"""Security review of the ways in: CSRF on session-authenticated API writes, 404 (never 403) for a
case one may not see on every API and web path, evidence downloads, sign-in that does not reveal
which usernames exist, safe `next` redirects, and bodies that cannot set what the server decides.
"""

from __future__ import annotations

import json
import re
import time
import uuid

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import User
from accounts.tokens import issue_token
from cases.models import Attachment, Case, Status
from tests.conftest import PASSWORD
from tests.test_intake_api import PNG, caller, complaint_body


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()


def png(name: str = "receipt.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, "image/png")


def browser(user: User, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


@pytest.fixture
def complaint(api, cast) -> str:
    response = api.as_user(cast.alice).post_json("/api/v1/complaints", complaint_body())
    assert response.status_code == 201, response.content
    return response.json()["number"]


@pytest.fixture
def evidence(api, cast, complaint) -> str:
    response = api.as_user(cast.alice).post(
        f"/api/v1/cases/{complaint}/attachments", {"file": png()}
    )
    assert response.status_code == 201, response.content
    return response.json()["url"]


# --- CSRF ------------------------------------------------------------------------------------


def _json(client: Client, path: str, body: dict, **extra):
    return client.post(path, json.dumps(body), content_type="application/json", **extra)


def test_session_api_writes_without_a_csrf_token_are_refused(cast, complaint):
    alice = browser(cast.alice, csrf=True)

    refused = [
        _json(alice, f"/api/v1/cases/{complaint}/actions", {"action": "withdraw"}),
        _json(alice, "/api/v1/complaints", complaint_body()),
        alice.post("/api/v1/attachments", {"file": png()}),
        alice.post(f"/api/v1/cases/{complaint}/attachments", {"file": png()}),
    ]

    assert [response.status_code for response in refused] == [403, 403, 403, 403]
    assert all(r.json()["error"]["message"] == "CSRF check Failed" for r in refused)
    assert Case.objects.get(number=complaint).status == Status.SUBMITTED
    assert Case.objects.count() == 1
    assert Attachment.objects.count() == 0


def test_session_api_writes_with_the_csrf_token_go_through(cast, complaint):
    alice = browser(cast.alice, csrf=True)
    alice.get("/my/cases/")  # sets the csrftoken cookie
    token = alice.cookies["csrftoken"].value

    response = _json(
        alice, f"/api/v1/cases/{complaint}/actions", {"action": "withdraw"}, HTTP_X_CSRFTOKEN=token
    )

    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "withdrawn"


def test_bearer_token_writes_need_no_csrf_token(cast, complaint):
    app = Client(
        enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {issue_token(user=cast.alice)}"
    )

    response = _json(app, f"/api/v1/cases/{complaint}/actions", {"action": "withdraw"})
    upload = app.post("/api/v1/attachments", {"file": png()})

    assert response.status_code == 200, response.content
    assert upload.status_code == 201, upload.content


def test_web_case_actions_need_the_csrf_token(cast, complaint):
    alice = browser(cast.alice, csrf=True)

    assert alice.post(f"/my/cases/{complaint}/withdraw/", {"version": 1}).status_code == 403
    assert Case.objects.get(number=complaint).status == Status.SUBMITTED


# --- 404, not 403, for a case one may not see ---------------------------------------------------


@pytest.mark.parametrize("who", ["bob", "nick", "sam"])
def test_a_case_one_may_not_see_is_404_on_every_api_path(api, cast, complaint, evidence, who):
    client = api.as_user(getattr(cast, who))

    answers = {
        "detail": client.get(f"/api/v1/cases/{complaint}"),
        "action": client.post_json(f"/api/v1/cases/{complaint}/actions", {"action": "accept"}),
        "upload": client.post(f"/api/v1/cases/{complaint}/attachments", {"file": png()}),
        "download": client.get(evidence),
    }
    if who != "bob":  # supervision is staff only: a consumer is refused whatever the case
        answers["order"] = client.post_json(
            "/api/v1/supervision/orders", {"case": complaint, "instructions": "请抓紧"}
        )

    assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(answers, 404)
    assert api.as_user(cast.ken).get(f"/api/v1/cases/{complaint}").status_code == 200  # twin


@pytest.mark.parametrize("who", ["bob", "nick", "sam", "betty"])
def test_a_case_one_may_not_see_is_404_on_every_web_path(cast, complaint, evidence, who):
    client = browser(getattr(cast, who))

    answers = {
        "portal page": client.get(f"/my/cases/{complaint}/"),
        "portal action": client.post(f"/my/cases/{complaint}/withdraw/", {"version": 1}),
        "workbench page": client.get(f"/staff/cases/{complaint}/"),
        "workbench action": client.post(
            f"/staff/cases/{complaint}/act/", {"action": "accept", "version": 1}
        ),
    }
    if who in ("nick", "sam"):
        answers["supervision page"] = client.get(f"/supervision/cases/{complaint}/order/")
    if who != "betty":  # the business may download evidence of a complaint against it
        answers["download"] = client.get(evidence)

    assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(answers, 404)
    assert browser(cast.ken).get(f"/staff/cases/{complaint}/").status_code == 200  # twin


def test_a_missing_case_answers_exactly_like_a_hidden_one(api, cast, complaint):
    hidden = api.as_user(cast.nick).get(f"/api/v1/cases/{complaint}")
    missing = api.as_user(cast.nick).get("/api/v1/cases/T2026010100009999")

    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


# --- evidence downloads -------------------------------------------------------------------------


def test_evidence_downloads_as_an_attachment_that_no_browser_renders(cast, evidence):
    response = browser(cast.alice).get(evidence)

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "image/png"
    assert "sandbox" in response["Content-Security-Policy"]


@pytest.mark.parametrize(
    "content",
    [
        b"<!DOCTYPE html><html><script>alert(1)</script></html>",
        b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
        b"<?xml version='1.0'?><html/>",
    ],
)
def test_html_and_svg_are_never_stored_whatever_they_are_called(api, cast, content):
    upload = SimpleUploadedFile("photo.png", content, "image/png")

    response = api.as_user(cast.alice).post("/api/v1/attachments", {"file": upload})

    assert response.status_code == 415
    assert Attachment.objects.count() == 0


def test_an_upload_name_cannot_climb_out_of_the_evidence_folder(api, cast, settings):
    upload = SimpleUploadedFile("../../../../etc/passwd.png", PNG, "image/png")

    response = api.as_user(cast.alice).post("/api/v1/attachments", {"file": upload})

    assert response.status_code == 201
    stored = Attachment.objects.get()
    assert stored.name == "passwd.png"
    assert stored.file.name.startswith("evidence/") and ".." not in stored.file.name
    assert str(settings.MEDIA_ROOT) in stored.file.path


# --- sign-in does not reveal which usernames exist ------------------------------------------------


def test_a_wrong_password_and_an_unknown_username_get_the_same_token_answer(api, cast):
    User.objects.filter(pk=cast.bob.pk).update(is_active=False)
    answers = [
        api.post_json("/api/v1/auth/token", {"username": name, "password": password})
        for name, password in (
            ("13800000001", "wrong-password"),
            ("13899999999", "wrong-password"),
            ("13800000002", PASSWORD),  # inactive, right password
        )
    ]

    assert {r.status_code for r in answers} == {401}
    assert len({r.content for r in answers}) == 1


def test_an_unknown_username_locks_like_a_known_one(api, cast):
    for name in ("13800000001", "13899999999"):
        codes = [
            api.post_json("/api/v1/auth/token", {"username": name, "password": "bad"}).status_code
            for _ in range(5)
        ]
        assert codes == [401, 401, 401, 401, 429], name
    locked = api.post_json("/api/v1/auth/token", {"username": "13800000001", "password": PASSWORD})
    assert locked.status_code == 429


def test_the_login_page_answers_an_unknown_username_like_a_wrong_password(cast):
    known = Client().post("/accounts/login/", {"username": "13800000001", "password": "bad"})
    unknown = Client().post("/accounts/login/", {"username": "13899999999", "password": "bad"})

    def page(response, username: str) -> str:
        html = response.content.decode().replace(username, "USERNAME")
        return re.sub(r'(csrfmiddlewaretoken" value="|X-CSRFToken": ")[^"]+', r"\1TOKEN", html)

    assert known.status_code == unknown.status_code == 200
    assert page(known, "13800000001") == page(unknown, "13899999999")


# --- redirects stay on the site -----------------------------------------------------------------


@pytest.mark.parametrize(
    "target", ["//evil.example", "https://evil.example/", "/\\evil.example", "http:evil.example"]
)
def test_login_and_the_membership_switcher_never_redirect_off_site(cast, target):
    login = Client().post(
        f"/accounts/login/?next={target}", {"username": "13800000001", "password": PASSWORD}
    )
    switched = browser(cast.ken).post(
        "/staff/membership/", {"membership": cast.ken.memberships.get().pk, "next": target}
    )

    assert login.status_code == 302 and login["Location"] == "/"
    assert switched.status_code == 302 and switched["Location"] == "/staff/"


def test_login_follows_an_on_site_next(cast):
    response = Client().post(
        "/accounts/login/?next=/my/cases/", {"username": "13800000001", "password": PASSWORD}
    )
    assert response["Location"] == "/my/cases/"


# --- bodies cannot set what the server decides ---------------------------------------------------


def test_a_create_body_cannot_set_the_status_owner_version_or_routing(api, cast):
    body = complaint_body(
        status="closed",
        outcome="mediated",
        version=99,
        consumer=cast.bob.pk,
        consumer_id=cast.bob.pk,
        handler_unit="330106001",
        is_major=True,
        number="T0000",
        party_phone="13000000000",
    )

    response = api.as_user(cast.alice).post_json("/api/v1/complaints", body)

    assert response.status_code == 201, response.content
    case = Case.objects.get(number=response.json()["number"])
    assert (case.status, case.outcome, case.version) == (Status.SUBMITTED, "", 1)
    assert case.consumer == cast.alice and case.party_phone == "13800000001"
    assert case.handler_unit is None and case.is_major is False


@pytest.mark.parametrize(
    "field", ["status", "version_", "consumer", "department", "handler_unit", "by", "case"]
)
def test_a_consumer_action_cannot_smuggle_fields(api, cast, complaint, field):
    response = api.as_user(cast.alice).post_json(
        f"/api/v1/cases/{complaint}/actions",
        {"action": "supplement", "facts": "补充：发票照片。", field: "330106001"},
    )

    assert response.status_code == 422
    assert field in response.json()["error"]["fields"]
    case = Case.objects.get(number=complaint)
    assert (case.status, case.version, case.handler_unit_id) == (Status.SUBMITTED, 1, None)


def test_a_consumer_cannot_act_on_another_consumers_case_by_number(api, cast, complaint):
    response = api.as_user(cast.bob).post_json(
        f"/api/v1/cases/{complaint}/actions", {"action": "withdraw"}
    )

    assert response.status_code == 404
    assert Case.objects.get(number=complaint).status == Status.SUBMITTED


# --- attachment id lists are bounded -------------------------------------------------------------


def test_a_huge_list_of_attachment_ids_is_refused_quickly(api, cast):
    ids = [str(uuid.uuid4()) for _ in range(40_000)]

    started = time.monotonic()
    response = api.as_user(cast.alice).post_json(
        "/api/v1/complaints", complaint_body(attachments=ids)
    )
    elapsed = time.monotonic() - started

    assert response.status_code == 422
    assert "attachments" in response.json()["error"]["fields"]
    assert elapsed < 5, f"{elapsed:.1f} s for one request"


def test_a_supplement_names_at_most_ten_files(api, cast, complaint):
    ids = [str(uuid.uuid4()) for _ in range(11)]

    response = api.as_user(cast.alice).post_json(
        f"/api/v1/cases/{complaint}/actions", {"action": "supplement", "attachments": ids}
    )

    assert response.status_code == 422
    assert response.json()["error"]["fields"]["attachments"] == ["每件最多10个证据文件。"]


def test_a_supplement_with_a_few_own_uploads_attaches_them(api, cast, complaint):
    upload = api.as_user(cast.alice).post("/api/v1/attachments", {"file": png()}).json()["id"]

    response = api.as_user(cast.alice).post_json(
        f"/api/v1/cases/{complaint}/actions", {"action": "supplement", "attachments": [upload]}
    )

    assert response.status_code == 200, response.content
    assert [a["id"] for a in response.json()["attachments"]] == [upload]


# --- bad input is a 4xx, never a 500 ------------------------------------------------------------


@pytest.mark.parametrize(
    "received_at", ["0001-01-01T00:00:00+14:00", "0001-01-01T05:00:00+08:00", "0001-01-01"]
)
def test_a_hotline_receipt_time_at_the_edge_of_the_calendar_is_refused(api, cast, received_at):
    body = complaint_body(
        on_behalf_of=caller(),
        received_at=received_at,
        occurred_on=None,
    )

    response = api.as_user(cast.hank).post_json("/api/v1/complaints", body)

    assert response.status_code == 422
    assert "received_at" in response.json()["error"]["fields"]
    assert Case.objects.count() == 0


def test_a_hotline_receipt_time_in_the_past_is_kept(api, cast):
    body = complaint_body(
        on_behalf_of=caller(),
        received_at="2026-11-20T09:30:00+08:00",
        occurred_on=None,
    )

    response = api.as_user(cast.hank).post_json("/api/v1/complaints", body)

    assert response.status_code == 201, response.content
    assert response.json()["received_at"] == "2026-11-20T09:30:00+08:00"
