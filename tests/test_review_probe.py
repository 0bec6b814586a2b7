from __future__ import annotations
import json
import pytest
from django.core.cache import cache
from django.test import Client
from django.core.files.uploadedfile import SimpleUploadedFile
from cases.services import perform
from cases.models import Case, Deadline
from notifications.models import Notification
from tests.test_intake_api import complaint_body, caller, PNG


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()


def file(api, user, path="/api/v1/complaints", **kw):
    r = api.as_user(user).post_json(path, complaint_body(**kw))
    assert r.status_code == 201, r.content
    return r.json()["number"]


def test_station_lifecycle(api, cast):
    number = file(api, cast.alice)
    case = Case.objects.get(number=number)
    case = perform(case, "accept", by=cast.ken, handler_unit="330106001")
    r = api.as_user(cast.sam).post(f"/api/v1/cases/{number}/attachments", {"file": SimpleUploadedFile("a.png", PNG, "image/png")})
    print("sam upload", r.status_code)
    case = Case.objects.get(number=number)
    case = perform(case, "start_mediation", by=cast.sam, note="双方同意调解")
    case = perform(case, "pause", by=cast.sam, reason="送检")
    case = perform(case, "resume", by=cast.sam)
    case = perform(case, "refer_clue", by=cast.sam, note="涉嫌违法")
    case = perform(case, "supervise", by=cast.helen, instructions="抓紧")
    case = perform(case, "mark_major", by=cast.cathy)
    case = perform(case, "terminate", by=cast.sam, ground="no_agreement_possible", note="无法达成")
    for who in ("alice", "betty"):
        body = api.as_user(getattr(cast, who)).get(f"/api/v1/cases/{number}").content.decode()
        lst = api.as_user(getattr(cast, who)).get(f"/api/v1/cases").content.decode()
        for needle in ("文新", "330106001", "Sam", "sam", "灵隐"):
            print(who, needle, needle in body, needle in lst)
        print(who, json.loads(body)["is_major"], json.loads(body)["deadlines"])
    for n in Notification.objects.all():
        print("notice", n.recipient_id, n.channel, n.body)
    c = Client(); c.force_login(cast.alice)
    html = c.get(f"/my/cases/{number}/").content.decode()
    print("portal", "文新" in html, "330106001" in html)
    html = c.get(f"/my/cases/").content.decode()
    print("portal list", "文新" in html, "330106001" in html)
    print(api.as_user(cast.alice).get("/api/v1/cases?overdue=true").json()["count"])
