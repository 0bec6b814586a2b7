"""Reading a complaint's co-complainants and agent from a submission (API.md body names).

`cases.intake` calls `read_parties` while it checks the rest of the submission, with the same
reader, so one reply lists every problem (`co_complainants.2.phone`, `agent.power_of_attorney`).
The rules: only complaints have them (o121 Arts. 11-12); each co-complainant consents; at most
`MAX_REPRESENTATIVES[rules]` representatives, the filer among them when they say so
(`filer_representative`, which needs co-complainants to represent); an agent shows a power of
attorney, an image or PDF the filer uploaded (`POST /api/v1/attachments`), which becomes one of
the case's files.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.identity import InvalidIdNumber, id_number_hash, validate_id_number
from accounts.models import User
from accounts.registration import PROVINCE_CODES
from cases.models import Attachment, Kind, Rules

if TYPE_CHECKING:
    from cases.intake import _Reader

MAX_CO_COMPLAINANTS = 20
# Forms show co-complainant n as a row of fields named `co_<n>_<field>` (the portal's parties
# step, the hotline desk): the field of each key of the submission.
ROW_FIELDS = {
    "real_name": "name",
    "phone": "phone",
    "id_number": "id_number",
    "consent": "consent",
    "representative": "representative",
}


def row_of_error(path: str) -> tuple[int, str] | None:
    """Where a form shows an intake message about `path`: `co_complainants.2.phone` -> (2,
    "phone"); a problem with a whole row goes to its name. None: not about one row."""
    parts = path.split(".")
    if parts[0] != "co_complainants" or len(parts) < 2 or not parts[1].isdigit():
        return None
    return int(parts[1]), ROW_FIELDS.get(parts[2], "name") if len(parts) > 2 else "name"


FILER_ALONE = gettext_noop("只有共同投诉才能由投诉人担任代表人，请先添加共同投诉人。")
# o121 Art. 12: up to two representatives; o20: up to five (WORKFLOW.md).
MAX_REPRESENTATIVES = {Rules.O121: 2, Rules.O20: 5}
POWER_OF_ATTORNEY_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf")
_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?)$")  # as the case's party


@dataclass(frozen=True)
class CoComplainantIn:
    real_name: str
    phone: str
    id_number: str  # validated and normalised, or ""
    representative: bool


@dataclass(frozen=True)
class AgentIn:
    real_name: str
    phone: str
    id_number: str
    power_of_attorney: str  # the id of the filer's unused upload


@dataclass
class PartiesIn:
    """What `parties.services.record_parties` writes with the new case."""

    co_complainants: list[CoComplainantIn] = field(default_factory=list)
    agent: AgentIn | None = None
    # The filing complainant is one of the joint complaint's representatives.
    filer_representative: bool = False

    @property
    def attachment_ids(self) -> list[str]:
        """The uploads the new case claims for its parties (the power of attorney)."""
        return [self.agent.power_of_attorney] if self.agent is not None else []


def read_parties(
    reader: _Reader,
    *,
    kind: str,
    rules: str,
    by: User,
    filer_phone: str,
    filer: User | None = None,
) -> PartiesIn:
    """The co-complainants and agent of the submission, every problem noted on `reader`.
    `filer`: the account the complaint is filed by and for (None when a hotline agent records
    a caller), whose ID number no co-complainant may repeat."""
    parties = PartiesIn()
    for name in ("co_complainants", "agent", "filer_representative"):
        if reader.given(name) and kind != Kind.COMPLAINT:
            reader.fail(name, _("只有投诉可以登记共同投诉人和委托代理人。"))
    if kind != Kind.COMPLAINT:
        return parties
    parties.filer_representative = reader.flag("filer_representative")
    if reader.given("co_complainants"):
        parties.co_complainants = _co_complainants(
            reader,
            rules=rules,
            filer=Filer(phone=filer_phone, account=filer),
            filer_representative=parties.filer_representative,
        )
    elif parties.filer_representative:
        # A representative acts for the others of a joint complaint; alone, there are none.
        reader.fail(
            "filer_representative", _("只有共同投诉才能由投诉人担任代表人，请先添加共同投诉人。")
        )
    if reader.given("agent"):
        parties.agent = _agent(reader, by=by)
    return parties


@dataclass(frozen=True)
class Filer:
    """The complainant who files: their phone, and their account when they file for
    themselves."""

    phone: str
    account: User | None = None

    def is_one_of(self, people: list[CoComplainantIn]) -> bool:
        phone = phone_key(self.phone)
        hashed = (self.account.id_number_hash or "") if self.account is not None else ""
        return any(
            (phone and phone_key(person.phone) == phone)
            or (hashed and person.id_number and id_number_hash(person.id_number) == hashed)
            for person in people
        )


def phone_key(phone: str) -> str:
    """A phone as compared for repeats: its digits ("0571-88880001" is "057188880001")."""
    return "".join(ch for ch in phone if ch.isdigit())


def _co_complainants(
    reader: _Reader, *, rules: str, filer: Filer, filer_representative: bool
) -> list[CoComplainantIn]:
    items = reader.raw("co_complainants")
    if not isinstance(items, list):
        reader.fail("co_complainants", _("共同投诉人格式不正确，应为列表。"))
        return []
    if len(items) > MAX_CO_COMPLAINANTS:
        reader.fail("co_complainants", _("共同投诉人最多%(n)d人。") % {"n": MAX_CO_COMPLAINANTS})
        return []
    found = [_co_complainant(reader, f"co_complainants.{i}") for i in range(len(items))]
    people = [person for person in found if person is not None]
    _check_representatives(reader, people, rules=rules, filer=filer_representative)
    _check_repeats(reader, people, filer=filer)
    return people


def _co_complainant(reader: _Reader, prefix: str) -> CoComplainantIn | None:
    if not isinstance(reader.raw(prefix), dict):
        reader.fail(prefix, _("格式不正确，应为对象。"))
        return None
    name, phone, id_number = _person(reader, prefix)
    representative = reader.flag(f"{prefix}.representative")
    consent = reader.raw(f"{prefix}.consent")
    if consent is not True:
        reader.fail(f"{prefix}.consent", _("共同投诉须经每位共同投诉人同意（consent 应为 true）。"))
    return CoComplainantIn(
        real_name=name, phone=phone, id_number=id_number, representative=representative
    )


def _person(reader: _Reader, prefix: str) -> tuple[str, str, str]:
    """Name and phone (required) and ID number (optional), checked as the filer's are."""
    name = reader.text(
        f"{prefix}.real_name", label=gettext_noop("姓名"), max_length=50, required=True
    )
    phone = reader.text(f"{prefix}.phone", label=gettext_noop("电话"), max_length=20, required=True)
    if phone and not _PHONE.match(phone):
        reader.fail(f"{prefix}.phone", _("电话号码格式不正确。"))
    raw_id = reader.text(f"{prefix}.id_number", label=gettext_noop("身份证号码"), max_length=18)
    id_number = ""
    if raw_id:
        try:
            id_number = validate_id_number(raw_id, known_province=PROVINCE_CODES)
        except InvalidIdNumber as exc:
            reader.fail(f"{prefix}.id_number", str(exc))
    return name, phone, id_number


def _check_representatives(
    reader: _Reader, people: list[CoComplainantIn], *, rules: str, filer: bool
) -> None:
    """At most the rules' number of representatives, the filer counted when they are one. Too
    many marked co-complainants is their list's problem; one too many only with the filer is
    the filer's choice's."""
    limit = MAX_REPRESENTATIVES[Rules(rules)]
    marked = sum(person.representative for person in people)
    values = {"n": limit, "rules": Rules(rules).label}
    if marked > limit:
        reader.fail("co_complainants", _("代表人最多%(n)d名（%(rules)s）。") % values)
    elif filer and marked + 1 > limit:
        reader.fail(
            "filer_representative",
            _("代表人最多%(n)d名（%(rules)s），投诉人本人担任代表人也计入其中。") % values,
        )


def _check_repeats(reader: _Reader, people: list[CoComplainantIn], *, filer: Filer) -> None:
    """The same person twice (by phone, however written, or ID number), or the filer listed
    as their own co-complainant (by phone, or by the ID number of their account)."""
    phones = [phone_key(person.phone) for person in people if person.phone]
    ids = [person.id_number for person in people if person.id_number]
    if len(set(phones)) != len(phones) or len(set(ids)) != len(ids):
        reader.fail("co_complainants", _("共同投诉人有重复（电话或身份证号码相同）。"))
    if filer.is_one_of(people):
        reader.fail("co_complainants", _("投诉人本人无需列为共同投诉人。"))


def _agent(reader: _Reader, *, by: User) -> AgentIn | None:
    if not isinstance(reader.raw("agent"), dict):
        reader.fail("agent", _("格式不正确，应为对象。"))
        return None
    name, phone, id_number = _person(reader, "agent")
    document = _power_of_attorney(reader, by=by)
    return AgentIn(real_name=name, phone=phone, id_number=id_number, power_of_attorney=document)


def _power_of_attorney(reader: _Reader, *, by: User) -> str:
    """The id of the filer's unused upload holding the power of attorney (image or PDF). The
    upload is claimed for the case, under lock, when the case is filed."""
    name = "agent.power_of_attorney"
    value = reader.raw(name)
    if value in (None, ""):
        reader.fail(name, _("委托代理人投诉须提交授权委托书。"))
        return ""
    try:
        upload_id = str(uuid.UUID(str(value)))
    except ValueError:
        reader.fail(name, _("授权委托书文件编号无效。"))
        return ""
    found = Attachment.objects.filter(pk=upload_id, owner=by, case__isnull=True)
    content_type = found.values_list("content_type", flat=True).first()
    if content_type is None:
        reader.fail(name, _("授权委托书文件不存在、已被使用或不属于您，请重新上传。"))
    elif content_type not in POWER_OF_ATTORNEY_TYPES:
        reader.fail(name, _("授权委托书应为图片或PDF文件。"))
    return upload_id
