"""Evidence files: what may be uploaded, how it is checked and where it is kept.

Consumers upload photos, receipts, recordings and videos; staff and businesses open them. A file
is accepted only when its first bytes show it is one of the allowed formats (the client's name and
content type are not trusted: an HTML page renamed `.jpg` is refused), at most
`EVIDENCE_MAX_BYTES` (20 MB), at most `MAX_PER_CASE` on a case. It is stored under a generated
name in MEDIA_ROOT, which no URL serves: downloads go through `cases.views_files`, which checks
who may see the case and never lets a browser render the file inline.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from cases.events import append_event
from cases.models import Attachment, Case, Kind, Visibility

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
MAX_PER_CASE = 10
MAX_PENDING_PER_USER = 30
UNUSED_FOR = timedelta(hours=24)
SNIFF_BYTES = 16


class EvidenceError(Exception):
    status = 422
    code = "invalid"


class UnsupportedType(EvidenceError):
    status = 415
    code = "unsupported_type"


class TooLarge(EvidenceError):
    status = 413
    code = "too_large"


class TooMany(EvidenceError):
    """A case already holds MAX_PER_CASE files, or the user has too many unused uploads."""

    status = 422
    code = "too_many_attachments"


class UnknownUploads(EvidenceError):
    code = "unknown_attachments"


class CaseClosed(EvidenceError):
    status = 409
    code = "case_closed"


def max_bytes() -> int:
    return int(getattr(settings, "EVIDENCE_MAX_BYTES", DEFAULT_MAX_BYTES))


@dataclass(frozen=True)
class FileType:
    content_type: str
    extensions: tuple[str, ...]


JPEG = FileType("image/jpeg", (".jpg", ".jpeg"))
PNG = FileType("image/png", (".png",))
GIF = FileType("image/gif", (".gif",))
WEBP = FileType("image/webp", (".webp",))
PDF = FileType("application/pdf", (".pdf",))
MP3 = FileType("audio/mpeg", (".mp3",))
AAC = FileType("audio/aac", (".aac",))
M4A = FileType("audio/mp4", (".m4a",))
WAV = FileType("audio/wav", (".wav",))
AMR = FileType("audio/amr", (".amr",))
MP4 = FileType("video/mp4", (".mp4",))
MOV = FileType("video/quicktime", (".mov",))
THREE_GP = FileType("video/3gpp", (".3gp",))

# ISO base media "ftyp" major brands, as phones and cameras write them.
_MP4_BRANDS = {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"MSNV"}
_M4A_BRANDS = {b"M4A ", b"M4B "}
# Old QuickTime files start with an atom instead of "ftyp".
_MOV_ATOMS = {b"moov", b"mdat", b"wide", b"pnot"}


def _iso_media_type(head: bytes) -> FileType | None:
    box, brand = head[4:8], head[8:12]
    if box == b"ftyp":
        if brand in _MP4_BRANDS:
            return MP4
        if brand in _M4A_BRANDS:
            return M4A
        if brand == b"qt  ":
            return MOV
        return THREE_GP if brand.startswith(b"3g") else None
    return MOV if box in _MOV_ATOMS else None


def _mpeg_audio_type(head: bytes) -> FileType | None:
    """An MP3 without an ID3 tag starts with a layer-III frame sync; AAC with an ADTS header."""
    if len(head) < 2 or head[0] != 0xFF:
        return None
    if head[1] & 0xE6 == 0xE2:  # sync bits, layer III
        return MP3
    return AAC if head[1] & 0xF6 == 0xF0 else None  # sync bits, layer 0 (ADTS)


def sniff(head: bytes) -> FileType | None:
    """The allowed type the file's first bytes show, or None."""
    signatures: tuple[tuple[bytes, int, FileType], ...] = (
        (b"\xff\xd8\xff", 0, JPEG),
        (b"\x89PNG\r\n\x1a\n", 0, PNG),
        (b"GIF87a", 0, GIF),
        (b"GIF89a", 0, GIF),
        (b"%PDF-", 0, PDF),
        (b"ID3", 0, MP3),
        (b"#!AMR", 0, AMR),
    )
    for magic, offset, file_type in signatures:
        if head[offset : offset + len(magic)] == magic:
            return file_type
    if head[:4] == b"RIFF" and head[8:12] in (b"WEBP", b"WAVE"):
        return WEBP if head[8:12] == b"WEBP" else WAV
    return _iso_media_type(head) or _mpeg_audio_type(head)


def display_name(client_name: str | None, file_type: FileType) -> str:
    """The name shown and offered on download: the client's, cleaned, with an extension that
    matches the content (so `page.html` holding a PNG downloads as `page.html.png`)."""
    name = os.path.basename((client_name or "").replace("\\", "/"))
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    name = name or "evidence"
    if not name.lower().endswith(file_type.extensions):
        name += file_type.extensions[0]
    return name[-200:]


def _read_head(uploaded_file: UploadedFile) -> bytes:
    uploaded_file.seek(0)
    head = uploaded_file.read(SNIFF_BYTES)
    uploaded_file.seek(0)
    return head


def _sha256(uploaded_file: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    uploaded_file.seek(0)
    return digest.hexdigest()


def too_large() -> TooLarge:
    return TooLarge(_("文件不能超过%(mb)s MB。") % {"mb": f"{max_bytes() / (1024 * 1024):g}"})


def check_upload(uploaded_file: UploadedFile) -> FileType:
    """Size first (cheap), then content. Raises TooLarge or UnsupportedType."""
    if (uploaded_file.size or 0) > max_bytes():
        raise too_large()
    file_type = sniff(_read_head(uploaded_file))
    if file_type is None:
        raise UnsupportedType(
            _(
                "只能上传图片（JPEG、PNG、GIF、WebP）、PDF、"
                "音频（MP3、M4A、AAC、WAV、AMR）或视频（MP4、MOV、3GP）。"
            )
        )
    return file_type


def _check_room(*, owner: User, case: Case | None, adding: int = 1) -> None:
    """Room on the case (its row locked by the caller), or among the owner's unused uploads."""
    if case is not None:
        if Attachment.objects.filter(case=case).count() + adding > MAX_PER_CASE:
            raise TooMany(_("每件最多%(n)d个证据文件。") % {"n": MAX_PER_CASE})
        return
    pending = Attachment.objects.filter(owner=owner, case__isnull=True).count()
    if pending + adding > MAX_PENDING_PER_USER:
        raise TooMany(_("未使用的上传文件过多，请先提交或等待其自动清理。"))


def may_add_evidence(user: User, case: Case) -> bool:
    """The parties (the consumer; the business a complaint is against) and the unit holding or
    handling the case. Staff further up watch; they don't add to the file."""
    from cases.access import handles_case

    business = user.business_id is not None and user.business_id == case.respondent_id
    party = case.consumer_id == user.pk or (case.kind == Kind.COMPLAINT and business)
    return party or handles_case(user, case)


def _lock_open_case(case: Case) -> Case:
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if not locked.is_open:
        raise CaseClosed(_("案件已办结，不能再添加证据。"))
    return locked


def store_upload(
    *, owner: User, uploaded_file: UploadedFile, case: Case | None = None
) -> Attachment:
    """Check and keep one uploaded file: unattached (for a later submission) or on an open `case`.

    Call outside a transaction. The file is written first, then the row is inserted in a short
    transaction that holds the case row, so two uploads cannot both take the tenth place and the
    slow write holds no lock. If the row is not saved, the file is removed again.
    """
    file_type = check_upload(uploaded_file)
    attachment = Attachment(
        owner=owner,
        name=display_name(uploaded_file.name, file_type),
        size=uploaded_file.size or 0,
        content_type=file_type.content_type,
        sha256=_sha256(uploaded_file),
        created_at=timezone.now(),
    )
    attachment.file.save(attachment.id.hex, uploaded_file, save=False)
    try:
        with transaction.atomic():
            _insert(attachment, case=case)
    except BaseException:
        attachment.file.delete(save=False)
        raise
    return attachment


def _insert(attachment: Attachment, *, case: Case | None) -> None:
    locked = _lock_open_case(case) if case is not None else None
    _check_room(owner=attachment.owner, case=locked)
    attachment.case = locked
    attachment.save(force_insert=True)
    if locked is not None:
        _record_added(locked, by=attachment.owner, attachments=[attachment])


def _record_added(case: Case, *, by: User, attachments: list[Attachment]) -> None:
    """Evidence added to a running case is part of its record (who, when, which files)."""
    from cases.access import memberships_over

    acting_for = memberships_over(by, case)
    append_event(
        case,
        action="attach",
        by=by,
        department=acting_for[0].department if acting_for else None,
        visibility=Visibility.PUBLIC,
        note=_("添加证据材料%(n)d份") % {"n": len(attachments)},
        data={"attachments": [str(a.id) for a in attachments]},
    )


def parse_ids(values: Any) -> list[str] | None:
    """Attachment ids as canonical UUIDs (duplicates dropped), or None if any is malformed."""
    if not isinstance(values, list):
        return None
    ids: dict[str, None] = {}  # ordered, and a linear pass however long the list someone sends
    for value in values:
        try:
            parsed = str(uuid.UUID(str(value)))
        except ValueError:
            return None
        ids[parsed] = None
    return list(ids)


def claim_uploads(*, owner: User, ids: list[str], case: Case) -> list[Attachment]:
    """Move the owner's unused uploads `ids` onto `case`, all or none.

    Call in the transaction that holds the case row (a new case's, or perform's). The uploads
    are locked so that two submissions cannot claim the same file; UnknownUploads names the
    problem when an id is not the owner's unused upload, TooMany when the case would pass ten.
    """
    if not ids:
        return []
    uploads = list(
        Attachment.objects.select_for_update().filter(id__in=ids, owner=owner, case__isnull=True)
    )
    if len(uploads) != len(ids):
        raise UnknownUploads(_("证据文件不存在、已被使用或不属于您，请重新上传。"))
    _check_room(owner=owner, case=case, adding=len(uploads))
    Attachment.objects.filter(id__in=ids).update(case=case)
    for upload in uploads:
        upload.case = case
    return uploads


class CappedUploadHandler(FileUploadHandler):
    """First in FILE_UPLOAD_HANDLERS: stops storing a file part once it passes the evidence limit,
    so an oversized upload never fills the temporary directory; the API then answers 413.

    The request is marked (`evidence_too_large`) because a skipped part simply goes missing.
    """

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if start + len(raw_data) > max_bytes():
            if self.request is not None:
                self.request.evidence_too_large = True  # type: ignore[attr-defined]
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
