from __future__ import annotations
import json
import pytest
from django.core.cache import cache
from django.test import Client
from django.core.files.uploadedfile import SimpleUploadedFile
from cases.services import perform
from cases.models import Case, Deadline
from tests.test_intake_api import complaint_body, caller, PNG


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()


def file(api, user, path="/api/v1/complaints", **kw):
    r = api.as_user(user).post_json(path, complaint_body(**kw))
    assert r.status_code == 201, r.content
    return r.json()["number"]


def test_csrf_session_api(api, cast):
    number = file(api, cast.alice)
    c = Client(enforce_csrf_checks=True)
    c.force_login(cast.alice)
    r = c.post(f"/api/v1/cases/{number}/actions", json.dumps({"action": "withdraw"}), content_type="application/json")
    print("actions", r.status_code, r.content[:200])
    r = c.post("/api/v1/complaints", json.dumps(complaint_body()), content_type="application/json")
    print("complaints", r.status_code, r.content[:200])
    r = c.post("/api/v1/attachments", {"file": SimpleUploadedFile("a.png", PNG, "image/png")})
    print("attachments", r.status_code, r.content[:200])
    r = c.post("/api/v1/auth/token", json.dumps({"username": "x", "password": "y"}), content_type="application/json")
    print("token", r.status_code)
    r = c.post(f"/my/cases/{number}/withdraw/", {"version": 1})
    print("portal", r.status_code)


def test_station_filter_oracle(api, cast):
    number = file(api, cast.alice)
    case = Case.objects.get(number=number)
    perform(case, "accept", by=cast.ken, handler_unit="330106001")
    for who in ("alice", "betty"):
        for code in ("330106001", "330106002"):
            r = api.as_user(getattr(cast, who)).get(f"/api/v1/cases?department={code}")
            print(who, code, r.json()["count"])


def test_me_with_bad_ciphertext(api, cast):
    from accounts.models import User
    User.objects.filter(pk=cast.alice.pk).update(id_number_encrypted="gAAAAAbad")
    r = api.as_user(cast.alice).get("/api/v1/me")
    print("me", r.status_code)
