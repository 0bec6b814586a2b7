"""Evidence: uploads checked by content, size and count; downloads only for those who may see."""

from __future__ import annotations

import datetime as dt
import hashlib
import struct
import zlib
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from cases import evidence
from cases.evidence import display_name, sniff
from cases.models import Attachment, Case, Status
from cases.tasks import purge_unused_uploads
from tests.test_intake_api import complaint_body


def png_bytes() -> bytes:
    """A real 1×1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    return tmp_path / "media"


def send(api, user, content, name="evidence.bin", content_type="application/octet-stream", to=""):
    path = f"/api/v1/cases/{to}/attachments" if to else "/api/v1/attachments"
    file = SimpleUploadedFile(name, content, content_type)
    return api.as_user(user).post(path, {"file": file})


def file_case(api, user, **overrides) -> str:
    response = api.as_user(user).post_json("/api/v1/complaints", complaint_body(**overrides))
    assert response.status_code == 201
    return response.json()["number"]


def session(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- uploads -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "name", "content_type"),
    [
        (png_bytes(), "photo.png", "image/png"),
        (JPEG, "receipt.jpg", "image/jpeg"),
        (PDF, "invoice.pdf", "application/pdf"),
    ],
)
def test_images_and_pdfs_are_accepted(api, cast, media, content, name, content_type):
    response = send(api, cast.alice, content, name=name, content_type="application/x-whatever")

    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["size"], body["content_type"]) == (name, len(content), content_type)
    stored = Attachment.objects.get(pk=body["id"])
    assert stored.owner == cast.alice
    assert stored.case is None
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    today = timezone.now()
    assert stored.file.name == f"evidence/{today:%Y/%m}/{stored.id.hex}"
    assert (media / stored.file.name).read_bytes() == content


def test_an_html_page_renamed_jpg_is_refused(api, cast, media):
    response = send(api, cast.alice, HTML, name="photo.jpg", content_type="image/jpeg")

    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_type"
    assert Attachment.objects.count() == 0
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_a_file_over_the_limit_is_413(api, cast, settings):
    settings.EVIDENCE_MAX_BYTES = 1024
    response = send(api, cast.alice, JPEG + b"\x00" * 2048, name="big.jpg")

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert Attachment.objects.count() == 0


def test_the_capped_upload_handler_stops_reading_an_oversized_file(api, cast, settings):
    settings.EVIDENCE_MAX_BYTES = 1024
    settings.FILE_UPLOAD_HANDLERS = [
        "cases.evidence.CappedUploadHandler",
        "django.core.files.uploadhandler.MemoryFileUploadHandler",
        "django.core.files.uploadhandler.TemporaryFileUploadHandler",
    ]
    too_big = send(api, cast.alice, JPEG + b"\x00" * 4096, name="big.jpg")
    fits = send(api, cast.alice, JPEG, name="small.jpg")

    assert too_big.status_code == 413
    assert fits.status_code == 201


def test_an_upload_without_a_file_is_422(api, cast):
    response = api.as_user(cast.alice).post("/api/v1/attachments", {"note": "x"})
    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["file"]


def test_uploading_needs_a_signed_in_caller(api, cast):
    response = api.post("/api/v1/attachments", {"file": SimpleUploadedFile("a.png", JPEG)})
    assert response.status_code == 401


def test_too_many_unused_uploads_are_refused(api, cast, monkeypatch):
    monkeypatch.setattr(evidence, "MAX_PENDING_PER_USER", 2)
    send(api, cast.alice, JPEG)
    send(api, cast.alice, JPEG)
    response = send(api, cast.alice, JPEG)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "too_many_attachments"


def test_uploads_are_rate_limited(api, cast, settings, one_clock_minute):
    settings.EVIDENCE_UPLOAD_RATE_PER_MINUTE = 1
    send(api, cast.alice, JPEG)
    response = send(api, cast.alice, JPEG)
    assert response.status_code == 429
    assert int(response["Retry-After"]) == 59


# --- adding to a case ----------------------------------------------------------------------


def test_the_consumer_adds_evidence_to_their_case(api, cast):
    number = file_case(api, cast.alice)

    response = send(api, cast.alice, PDF, name="合同.pdf", to=number)

    assert response.status_code == 201
    case = Case.objects.get(number=number)
    assert [a.name for a in case.attachments.all()] == ["合同.pdf"]
    event = case.events.order_by("-seq").first()
    assert (event.action, event.actor) == ("attach", cast.alice)


@pytest.mark.parametrize("who", ["ken", "hank"])
def test_the_holding_unit_adds_evidence(api, cast, who):
    number = file_case(api, cast.alice)
    assert send(api, getattr(cast, who), JPEG, to=number).status_code == 201


def test_the_business_complained_about_adds_evidence(api, cast):
    number = file_case(api, cast.alice)
    assert send(api, cast.betty, JPEG, to=number).status_code == 201


@pytest.mark.parametrize("who", ["bob", "nick"])
def test_those_who_cannot_see_the_case_get_404(api, cast, who):
    number = file_case(api, cast.alice)
    assert send(api, getattr(cast, who), JPEG, to=number).status_code == 404
    assert Attachment.objects.count() == 0


def test_staff_higher_up_see_the_case_but_do_not_add_to_it(api, cast):
    number = file_case(api, cast.alice)
    response = send(api, cast.cathy, JPEG, to=number)
    assert response.status_code == 403


def test_the_eleventh_file_on_a_case_is_refused(api, cast):
    number = file_case(api, cast.alice)
    for _ in range(10):
        assert send(api, cast.alice, JPEG, to=number).status_code == 201

    response = send(api, cast.alice, JPEG, to=number)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "too_many_attachments"
    assert Case.objects.get(number=number).attachments.count() == 10


def test_uploads_claimed_at_submission_count_towards_the_ten(api, cast):
    ids = [send(api, cast.alice, JPEG).json()["id"] for _ in range(10)]
    number = file_case(api, cast.alice, attachments=ids)
    assert send(api, cast.alice, JPEG, to=number).status_code == 422


def test_a_closed_case_takes_no_more_evidence(api, cast):
    number = file_case(api, cast.alice)
    Case.objects.filter(number=number).update(status=Status.CLOSED, outcome="withdrawn")

    response = send(api, cast.alice, JPEG, to=number)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "case_closed"


def test_a_refused_file_on_a_case_leaves_no_file(api, cast, media):
    number = file_case(api, cast.alice)
    Case.objects.filter(number=number).update(status=Status.CLOSED)
    send(api, cast.alice, JPEG, to=number)
    assert not any(p.is_file() for p in media.rglob("*"))


# --- downloads -----------------------------------------------------------------------------


def download_url(attachment_id: str) -> str:
    return f"/cases/files/{attachment_id}/"


def test_the_owner_downloads_an_unused_upload(api, cast):
    attachment_id = send(api, cast.alice, png_bytes(), name="photo.png").json()["id"]

    response = session(cast.alice).get(download_url(attachment_id))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "photo.png" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == png_bytes()


def test_nobody_else_downloads_an_unused_upload(api, cast):
    attachment_id = send(api, cast.alice, JPEG).json()["id"]
    assert session(cast.bob).get(download_url(attachment_id)).status_code == 404
    assert session(cast.ken).get(download_url(attachment_id)).status_code == 404
    assert Client().get(download_url(attachment_id)).status_code == 404


@pytest.mark.parametrize(
    ("who", "status"),
    [("alice", 200), ("ken", 200), ("sam", 404), ("betty", 200), ("bob", 404), ("nick", 404)],
)
def test_evidence_on_a_case_downloads_for_those_who_may_see_the_case(api, cast, who, status):
    attachment_id = send(api, cast.alice, PDF, name="invoice.pdf").json()["id"]
    file_case(api, cast.alice, attachments=[attachment_id])

    response = session(getattr(cast, who)).get(download_url(attachment_id))

    assert response.status_code == status


def test_an_app_downloads_with_its_bearer_token(api, cast):
    attachment_id = send(api, cast.alice, PDF).json()["id"]
    assert api.as_user(cast.alice).get(download_url(attachment_id)).status_code == 200
    assert api.as_user(cast.bob).get(download_url(attachment_id)).status_code == 404


def test_the_download_name_matches_the_content(api, cast):
    attachment_id = send(api, cast.alice, png_bytes(), name="page.html").json()["id"]
    response = session(cast.alice).get(download_url(attachment_id))
    assert "page.html.png" in response["Content-Disposition"]
    assert response["Content-Type"] == "image/png"


def test_an_unknown_file_is_404(cast):
    assert session(cast.alice).get(download_url("0" * 32)).status_code == 404


# --- the cleanup task -------------------------------------------------------------------------


def test_uploads_unused_for_a_day_are_purged_with_their_files(
    api, cast, media, django_capture_on_commit_callbacks
):
    stale_id = send(api, cast.alice, JPEG).json()["id"]
    fresh_id = send(api, cast.alice, JPEG).json()["id"]
    used_id = send(api, cast.alice, JPEG).json()["id"]
    file_case(api, cast.alice, attachments=[used_id])
    long_ago = timezone.now() - dt.timedelta(hours=25)
    Attachment.objects.filter(pk__in=[stale_id, used_id]).update(created_at=long_ago)
    stale_path = media / Attachment.objects.get(pk=stale_id).file.name

    with django_capture_on_commit_callbacks(execute=True):
        removed = purge_unused_uploads()

    assert removed == 1
    assert set(Attachment.objects.values_list("id", flat=True).order_by()) == {
        Attachment.objects.get(pk=fresh_id).pk,
        Attachment.objects.get(pk=used_id).pk,
    }
    assert not stale_path.exists()


# --- content checks ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "content_type"),
    [
        (b"\xff\xd8\xff\xdb", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"GIF89a\x01\x00", "image/gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"%PDF-1.7", "application/pdf"),
        (b"ID3\x04\x00", "audio/mpeg"),
        (b"\xff\xfb\x90\x64", "audio/mpeg"),
        (b"\xff\xf1\x50\x80", "audio/aac"),
        (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00", "audio/mp4"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "audio/wav"),
        (b"#!AMR\n", "audio/amr"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00", "video/mp4"),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00", "video/mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", "video/quicktime"),
        (b"\x00\x00\x00\x14ftyp3gp4\x00\x00\x00\x00", "video/3gpp"),
    ],
)
def test_allowed_formats_are_recognised_by_their_first_bytes(head, content_type):
    file_type = sniff(head + b"\x00" * 16)
    assert file_type is not None
    assert file_type.content_type == content_type


@pytest.mark.parametrize(
    "head",
    [
        HTML,
        b"<svg xmlns='http://www.w3.org/2000/svg'>",
        b"PK\x03\x04\x14\x00",  # zip, docx
        b"MZ\x90\x00",  # Windows executable
        b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00",  # HEIC: not on the list
        b"RIFF\x24\x00\x00\x00AVI LIST",
        b"",
    ],
)
def test_other_formats_are_not(head):
    assert sniff(head) is None


def test_a_download_name_is_cleaned():
    png = sniff(b"\x89PNG\r\n\x1a\n")
    assert png is not None
    assert display_name("../../etc/passwd", png) == "passwd.png"
    assert display_name("C:\\Users\\a\\收据.PNG", png) == "收据.PNG"
    assert display_name("bad\x00name\n.png", png) == "badname.png"
    assert display_name("", png) == "evidence.png"


def test_the_capped_handler_skips_a_part_past_the_limit_and_marks_the_request(settings, rf):
    from django.core.files.uploadhandler import SkipFile

    settings.EVIDENCE_MAX_BYTES = 10
    request = rf.post("/api/v1/attachments")
    handler = evidence.CappedUploadHandler(request)

    assert handler.receive_data_chunk(b"12345", 0) == b"12345"
    with pytest.raises(SkipFile):
        handler.receive_data_chunk(b"123456", 5)
    assert request.evidence_too_large is True
