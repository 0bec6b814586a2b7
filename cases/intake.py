"""Receiving complaints, reports and consultations: the one path from a submission to a case.

Web form, JSON API and hotline desk all call `submit_case`. It checks the materials the rules
require (o121 Art. 10, o20 Art. 9: who complains and how to reach them, whom against, the facts,
the demand), that the chosen department may receive the case (complaints go to a county-level
department, o121 Art. 13; reports to where the act occurred, county or above, Art. 29), and then,
in one transaction, records the respondent, the case with its number, the public `submit` event,
the evidence and the accept clock. A refused submission leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.memberships import memberships_of
from accounts.models import Role, User
from businesses.services import choose_business
from cases import evidence, idempotency, intake_writes
from cases.categories import is_category
from cases.events import first_event
from cases.intake_writes import Reserved, Respondent
from cases.models import (
    Attachment,
    Case,
    CaseEvent,
    Channel,
    ClockKind,
    Deadline,
    Kind,
    Status,
    Visibility,
)
from cases.numbering import number_for, placeholder_number
from cases.rules import SHANGHAI, local_date, looks_like_moment, parse_day, rules_for
from cases.text import clean_text
from departments import cache as department_cache
from departments.models import Department, Level
from parties.intake import PartiesIn, read_parties
from parties.models import Agent, CoComplainant, FilerRepresentative
from parties.services import record_parties
from supervision import rollups
from workdays.calendar import add_working_days

ACCEPT_WORKING_DAYS = 7  # o121 Art. 15, o20 Art. 14: accept or reject within 7 working days
ANSWER_WORKING_DAYS = 7
CONSUMER_CHANNELS = (Channel.WEB, Channel.APP)
CLOCK_SKEW = dt.timedelta(minutes=1)
MAX_AMOUNT = Decimal("999999999999.99")
_USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?)$")
CHECKS = 3  # times a submission is checked while its department's row keeps changing


class IntakeError(Exception):
    """The submission is refused; `fields` maps each field (API names, dotted) to its problems."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        super().__init__(_("提交的数据有误，请按字段提示修改。"))
        self.fields = fields


class IntakeForbidden(Exception):
    """Only real-name consumers and 12315 hotline agents file cases (online filing is real-name)."""

    def __init__(self) -> None:
        super().__init__(_("只有实名认证的消费者或12315坐席可以提交投诉、举报和咨询。"))


@dataclass(frozen=True)
class Filing:
    """A submission's outcome: the case and, when this request filed it, the rows it wrote
    (its `submit` event, first clock and evidence), so the reply needs no read-back. A replay
    of an earlier request with the same idempotency key carries the case only."""

    case: Case
    event: CaseEvent | None = None
    clock: Deadline | None = None
    attachments: list[Attachment] = field(default_factory=list)
    co_complainants: list[CoComplainant] = field(default_factory=list)
    agent: Agent | None = None
    filer_representative: FilerRepresentative | None = None


def submit_case(
    *, kind: str, by: User, payload: dict[str, Any], idempotency_key: str | None = None
) -> Case:
    """File a case of `kind` from `payload` (API.md body names) for `by`; the new case.

    With an idempotency key a repeat of the same body returns the first case, a different body
    raises `idempotency.IdempotencyMismatch`, and of two racing requests only one files a case.
    """
    return file_case(kind=kind, by=by, payload=payload, idempotency_key=idempotency_key).case


def file_case(
    *, kind: str, by: User, payload: dict[str, Any], idempotency_key: str | None = None
) -> Filing:
    """`submit_case`, answering with the rows written (see `Filing`)."""
    key = _clean_key(idempotency_key)
    # Only a keyed request is remembered, so only a keyed request needs its fingerprint.
    request_hash = idempotency.fingerprint(kind=kind, payload=payload) if key is not None else ""
    if key is not None:
        first = idempotency.replay(user=by, key=key, request_hash=request_hash)
        if first is not None:
            return Filing(case=first)
    submission, reserved = _checked(kind=kind, by=by, payload=payload)
    try:
        with transaction.atomic():
            return _file(submission, reserved, by=by, key=key, request_hash=request_hash)
    except IntegrityError:
        # A concurrent request with the same key recorded it first: answer with its case.
        if key is None:
            raise
        winner = idempotency.replay(user=by, key=key, request_hash=request_hash)
        if winner is None:
            raise
        return Filing(case=winner)


def _checked(*, kind: str, by: User, payload: dict[str, Any]) -> tuple[Submission, Reserved]:
    """Check the submission, then read what filing it needs (one round trip): if the
    department's row is no longer the copy the check used (`departments.cache`), check again."""
    for _attempt in range(CHECKS):
        submission = clean_submission(kind=kind, by=by, payload=payload)
        reserved = intake_writes.reserve(
            department=submission.unit.code, respondent=_respondent_named(submission)
        )
        if department_cache.confirm(submission.unit, reserved.department):
            return submission, reserved
    raise RuntimeError(f"department {submission.unit.code} kept changing during the checks")


def _clean_key(key: str | None) -> str | None:
    try:
        return idempotency.clean_key(key)
    except idempotency.InvalidKey as exc:
        raise IntakeError({"Idempotency-Key": [str(exc)]}) from None


# --- reading the payload -------------------------------------------------------------------


class _Reader:
    """Reads fields by dotted name (a number picks an item of a list) and collects every
    problem, so one reply lists them all."""

    def __init__(self, payload: dict[str, Any]) -> None:
        self.payload = payload
        self.errors: dict[str, list[str]] = {}

    def fail(self, name: str, message: str) -> None:
        messages = self.errors.setdefault(name, [])
        if message not in messages:
            messages.append(message)

    def raw(self, name: str) -> Any:
        node: Any = self.payload
        for depth, part in enumerate(name.split(".")):
            if node is None:
                return None
            if isinstance(node, list) and part.isdigit():  # "co_complainants.2.phone"
                node = node[int(part)] if int(part) < len(node) else None
                continue
            if not isinstance(node, dict):
                self.fail(".".join(name.split(".")[:depth]), _("格式不正确，应为对象。"))
                return None
            node = node.get(part)
        return node

    def given(self, name: str) -> bool:
        value = self.raw(name)
        return value not in (None, "", {}, [])

    def text(self, name: str, *, label: str, max_length: int, required: bool = False) -> str:
        """The stripped text of a field. `label` (marked with gettext_noop) is translated only
        for a message: most submissions have none to give."""
        value = self.raw(name)
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.fail(name, _("%(label)s应为文本。") % {"label": _(label)})
            return ""
        value = clean_text(value)
        if required and not value:
            self.fail(name, _("请填写%(label)s。") % {"label": _(label)})
        elif len(value) > max_length:
            self.fail(
                name, _("%(label)s不能超过%(max)d个字。") % {"label": _(label), "max": max_length}
            )
        return value

    def flag(self, name: str) -> bool:
        value = self.raw(name)
        if value is not None and not isinstance(value, bool):
            self.fail(name, _("应为 true 或 false。"))
        return value is True


@dataclass
class Submission:
    """A checked submission: every value the new case needs."""

    kind: str
    department: Department | None
    channel: str
    received_at: dt.datetime
    consumer: User | None
    party_name: str
    party_phone: str
    party_address: str
    respondent_name: str = ""
    respondent_uscc: str = ""
    respondent_address: str = ""
    platform_name: str = ""
    platform_address: str = ""
    category: str = ""
    amount: Decimal | None = None
    occurred_on: dt.date | None = None
    facts: str = ""
    demand: str = ""
    notify_me: bool = False
    attachment_ids: list[str] = field(default_factory=list)
    # A complaint's co-complainants and agent (o121 Arts. 11-12; `parties`).
    parties: PartiesIn = field(default_factory=PartiesIn)

    @property
    def unit(self) -> Department:
        """The receiving department; a submission without one never gets past the checks."""
        assert self.department is not None
        return self.department


def is_hotline_agent(user: User) -> bool:
    return any(Role.HOTLINE in m.roles for m in memberships_of(user))


def is_real_name_consumer(user: User) -> bool:
    return bool(user.is_verified and user.real_name and user.phone)


def clean_submission(*, kind: str, by: User, payload: dict[str, Any]) -> Submission:
    """Check the payload for `kind` as filed by `by`; IntakeError lists every problem."""
    if kind not in Kind.values:
        raise ValueError(f"unknown case kind {kind!r}")
    agent = is_hotline_agent(by)
    if not agent and not is_real_name_consumer(by):
        raise IntakeForbidden
    reader = _Reader(payload)
    submission = Submission(
        kind=kind,
        department=_department(reader, kind=kind),
        channel=_channel(reader, agent=agent),
        received_at=_received_at(reader, agent=agent),
        consumer=None,
        party_name="",
        party_phone="",
        party_address="",
    )
    _party(reader, submission, by=by, agent=agent)
    _content(reader, submission)
    submission.parties = read_parties(
        reader,
        kind=kind,
        rules=rules_for(submission.received_at),
        by=by,
        filer_phone=submission.party_phone,
        filer=submission.consumer,
    )
    if reader.errors:
        raise IntakeError(reader.errors)
    return submission


def _department(reader: _Reader, *, kind: str) -> Department | None:
    """Complaints and consultations go to a county-level department; reports to the department
    where the act occurred, county or above. A station never receives a case directly."""
    code = reader.text("department", label=gettext_noop("受理部门"), max_length=12, required=True)
    if not code:
        return None
    department = department_cache.department(code)
    if department is None or _refusal(department, kind=kind) is not None:
        # A refusal is decided on the row as it is now, never on a kept copy.
        department = department_cache.department(code, fresh=True)
    if department is None or not department.is_active:
        reader.fail("department", _("受理部门不存在，请重新选择。"))
        return None
    refusal = _refusal(department, kind=kind)
    if refusal is not None:
        reader.fail("department", refusal)
    return department


def _refusal(department: Department, *, kind: str) -> str | None:
    """Why `department` may not receive a case of `kind`; None when it may."""
    if not department.is_active:
        return _("受理部门不存在，请重新选择。")
    if kind == Kind.REPORT and department.level == Level.STATION:
        return _("举报应提交给县级或以上市场监管部门。")
    if kind != Kind.REPORT and not department.is_county_level:
        return _("请选择县级（区县）市场监管部门。")
    return None


def _channel(reader: _Reader, *, agent: bool) -> str:
    value = reader.raw("channel")
    default = Channel.HOTLINE if agent and reader.given("on_behalf_of") else Channel.WEB
    if value in (None, ""):
        return default
    if value not in Channel.values:
        reader.fail("channel", _("受理渠道无效。"))
        return default
    if not agent and value not in CONSUMER_CHANNELS:
        reader.fail("channel", _("只有12315坐席可以登记网站和手机应用以外的渠道。"))
        return default
    return str(value)


def _received_at(reader: _Reader, *, agent: bool) -> dt.datetime:
    """Now, or for a hotline agent the time the call or letter came in (not in the future)."""
    now = timezone.now()
    value = reader.raw("received_at")
    if value in (None, ""):
        return now
    if not agent:
        reader.fail("received_at", _("只有12315坐席可以填写受理时间。"))
        return now
    moment = _parse_datetime(value)
    if moment is None:
        reader.fail("received_at", _("受理时间格式应为 2026-11-20T09:30:00+08:00。"))
        return now
    if moment > now + CLOCK_SKEW:
        reader.fail("received_at", _("受理时间不能晚于当前时间。"))
        return now
    return min(moment, now)


def _parse_datetime(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not looks_like_moment(value.strip()):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.strip())
        moment = moment if timezone.is_aware(moment) else moment.replace(tzinfo=SHANGHAI)
        # A moment at the edge of the calendar with no date in UTC (how it is stored) or in
        # China (where deadlines count), e.g. 0001-01-01T00:00+08:00, is refused, not a 500.
        for zone in (dt.UTC, SHANGHAI):
            moment.astimezone(zone)
        return moment
    except (ValueError, OverflowError):
        return None


def _party(reader: _Reader, submission: Submission, *, by: User, agent: bool) -> None:
    """The complainant's true identity and address (o121 Art. 10): the consumer's own account,
    or, for a hotline agent, the caller's details (`on_behalf_of`)."""
    needs_address = submission.kind != Kind.CONSULTATION
    address = reader.text("contact_address", label=gettext_noop("联系地址"), max_length=300)
    if reader.given("on_behalf_of") and not agent:
        reader.fail("on_behalf_of", _("只有12315坐席可以代他人登记。"))
    if agent and (reader.given("on_behalf_of") or not is_real_name_consumer(by)):
        _caller(reader, submission, address=address, needs_address=needs_address)
        return
    if needs_address and not address:
        reader.fail("contact_address", _("请填写联系地址。"))
    submission.consumer = by
    submission.party_name = by.real_name
    submission.party_phone = by.phone or ""
    submission.party_address = address


def _caller(reader: _Reader, submission: Submission, *, address: str, needs_address: bool) -> None:
    if not reader.given("on_behalf_of"):
        reader.fail("on_behalf_of", _("代为登记时请填写来电人的姓名、电话和地址。"))
        return
    name = reader.text(
        "on_behalf_of.real_name", label=gettext_noop("姓名"), max_length=50, required=True
    )
    phone = reader.text(
        "on_behalf_of.phone", label=gettext_noop("电话"), max_length=20, required=True
    )
    if phone and not _PHONE.match(phone):
        reader.fail("on_behalf_of.phone", _("电话号码格式不正确。"))
    own = reader.text("on_behalf_of.address", label=gettext_noop("联系地址"), max_length=300)
    if needs_address and not (own or address):
        reader.fail("on_behalf_of.address", _("请填写联系地址。"))
    submission.party_name, submission.party_phone = name, phone
    submission.party_address = own or address


def _content(reader: _Reader, submission: Submission) -> None:
    if submission.kind == Kind.CONSULTATION:
        submission.facts = reader.text(
            "question", label=gettext_noop("咨询内容"), max_length=2000, required=True
        )
    else:
        _respondent(reader, submission)
        _facts(reader, submission)
    submission.attachment_ids = _attachment_ids(reader)


def _respondent(reader: _Reader, submission: Submission) -> None:
    """Whom against (o121 Art. 10): name and address required; code and platform optional."""
    submission.respondent_name = reader.text(
        "respondent.name",
        label=gettext_noop("被投诉（举报）经营者名称"),
        max_length=200,
        required=True,
    )
    submission.respondent_address = reader.text(
        "respondent.address", label=gettext_noop("经营者地址"), max_length=300, required=True
    )
    uscc = reader.text(
        "respondent.uscc", label=gettext_noop("统一社会信用代码"), max_length=18
    ).upper()
    if uscc and not _USCC.match(uscc):
        reader.fail("respondent.uscc", _("统一社会信用代码应为18位数字或大写字母。"))
    submission.respondent_uscc = uscc
    submission.platform_name = reader.text(
        "respondent.platform.name", label=gettext_noop("平台名称"), max_length=200
    )
    submission.platform_address = reader.text(
        "respondent.platform.address", label=gettext_noop("平台地址"), max_length=300
    )


def _facts(reader: _Reader, submission: Submission) -> None:
    complaint = submission.kind == Kind.COMPLAINT
    submission.facts = reader.text(
        "facts", label=gettext_noop("事实经过"), max_length=5000, required=True
    )
    submission.demand = reader.text(
        "demand", label=gettext_noop("诉求"), max_length=2000, required=complaint
    )
    submission.category = _category(reader)
    submission.amount = _amount(reader)
    submission.occurred_on = _occurred_on(reader, received_on=local_date(submission.received_at))
    if submission.kind == Kind.REPORT:
        submission.notify_me = reader.flag("notify_me")


def _category(reader: _Reader) -> str:
    code = reader.text("category", label=gettext_noop("类别"), max_length=20)
    if code and not is_category(code):
        reader.fail("category", _("类别不存在，请从类别列表中选择。"))
    return code


def _amount(reader: _Reader) -> Decimal | None:
    value = reader.raw("amount")
    if value in (None, ""):
        return None
    try:
        if isinstance(value, bool):
            raise InvalidOperation
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        reader.fail("amount", _("涉及金额应为数字，例如 199.00。"))
        return None
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        reader.fail("amount", _("涉及金额应在 0 到 999999999999.99 元之间。"))
        return None
    if amount != amount.quantize(Decimal("0.01")):
        reader.fail("amount", _("涉及金额最多两位小数。"))
        return None
    return amount.quantize(Decimal("0.01"))


def _occurred_on(reader: _Reader, *, received_on: dt.date) -> dt.date | None:
    """What happened cannot have happened after the case was received."""
    value = reader.raw("occurred_on")
    if value in (None, ""):
        return None
    day = parse_day(value)
    if day is None:
        reader.fail("occurred_on", _("发生日期格式应为 2026-11-20。"))
    elif day > received_on:
        reader.fail("occurred_on", _("发生日期不能晚于受理日期。"))
        return None
    return day


def _attachment_ids(reader: _Reader) -> list[str]:
    value = reader.raw("attachments")
    if value in (None, []):
        return []
    ids = evidence.parse_ids(value)
    if ids is None:
        reader.fail("attachments", _("证据文件编号无效。"))
        return []
    if len(ids) > evidence.MAX_PER_CASE:
        reader.fail("attachments", _("每件最多%(n)d个证据文件。") % {"n": evidence.MAX_PER_CASE})
    return ids


# --- filing --------------------------------------------------------------------------------


def _file(
    submission: Submission, reserved: Reserved, *, by: User, key: str | None, request_hash: str
) -> Filing:
    """Write everything the new case consists of. Runs inside submit_case's transaction."""
    case = _new_case(submission, by=by, respondent_id=_respondent_id(submission, reserved))
    event, clock = _write(case, submission, reserved, by=by)
    if key is not None:
        idempotency.remember(user=by, key=key, request_hash=request_hash, case=case)
    attachments = _claim_evidence(submission, case=case, by=by)
    parties = record_parties(case=case, parties=submission.parties, claimed=attachments)
    return Filing(
        case=case,
        event=event,
        clock=clock,
        attachments=attachments,
        co_complainants=parties.co_complainants,
        agent=parties.agent,
        filer_representative=parties.filer_representative,
    )


def _write(
    case: Case, submission: Submission, reserved: Reserved, *, by: User
) -> tuple[CaseEvent, Deadline]:
    """Insert the case with its number and the head of its timeline, its `submit` event, its
    first clock and its rollup rows; the event and the clock, saved.

    The event's hash covers the number, and the number is made from the key: on PostgreSQL the
    keys were reserved (`intake_writes.reserve`) and the rows go in one round trip; SQLite hands
    out the key on insert, so there the case is written with a placeholder, then numbered."""
    if reserved.case_id is None:
        return _write_one_by_one(case, submission, by=by)
    case.pk = reserved.case_id
    case.number = number_for(case)
    event = _submit_event(case, submission, by=by)
    event.pk = reserved.event_id
    clock = _first_clock(case, submission)
    clock.pk = reserved.clock_id
    rows = rollups.upsert_statements(rollups.case_rows(case, ()))
    intake_writes.insert([case, event, clock], rows)
    return event, clock


def _write_one_by_one(
    case: Case, submission: Submission, *, by: User
) -> tuple[CaseEvent, Deadline]:
    case.number = placeholder_number()
    case.save(force_insert=True)
    case.number = number_for(case)
    event = _submit_event(case, submission, by=by)
    Case.objects.filter(pk=case.pk).update(number=case.number, event_head=case.event_head)
    event.save(force_insert=True)
    clock = _first_clock(case, submission)
    clock.save(force_insert=True)
    rollups.case_filed(case)
    return event, clock


def _respondent_named(submission: Submission) -> Respondent | None:
    if not submission.respondent_name:
        return None
    return Respondent(name=submission.respondent_name, uscc=submission.respondent_uscc)


def _respondent_id(submission: Submission, reserved: Reserved) -> int | None:
    """The business the case is against, found among the candidates read with the keys, or
    recorded now (`businesses.services.choose_business`)."""
    if not submission.respondent_name:
        return None
    return choose_business(
        name=submission.respondent_name,
        uscc=submission.respondent_uscc,
        address=submission.respondent_address,
        found=reserved.businesses,
    )


def _new_case(submission: Submission, *, by: User, respondent_id: int | None) -> Case:
    return Case(
        kind=submission.kind,
        status=Status.SUBMITTED,
        rules=rules_for(submission.received_at),
        channel=submission.channel,
        department=submission.unit,
        received_at=submission.received_at,
        consumer=submission.consumer,
        created_by=by,
        party_name=submission.party_name,
        party_phone=submission.party_phone,
        party_address=submission.party_address,
        respondent_id=respondent_id,
        respondent_name=submission.respondent_name,
        respondent_uscc=submission.respondent_uscc,
        respondent_address=submission.respondent_address,
        platform_name=submission.platform_name,
        platform_address=submission.platform_address,
        category=submission.category,
        amount=submission.amount,
        occurred_on=submission.occurred_on,
        facts=submission.facts,
        demand=submission.demand,
        notify_me=submission.notify_me,
        next_due=_first_due(submission),
    )


def _submit_event(case: Case, submission: Submission, *, by: User) -> CaseEvent:
    # The note is part of the hash-chained record: write it in the platform's language, never in
    # whichever language the submitting browser happens to use.
    with translation.override(settings.LANGUAGE_CODE):
        note = _("经%(channel)s提交") % {"channel": Channel(submission.channel).label}
    return first_event(
        case,
        action="submit",
        by=by,
        department=submission.unit,
        visibility=Visibility.PUBLIC,
        note=note,
        data={"channel": submission.channel, "on_behalf": submission.consumer is None},
        at=submission.received_at,
    )


def _claim_evidence(submission: Submission, *, case: Case, by: User) -> list[Attachment]:
    """The evidence and the power of attorney (an agent's), claimed together: all or none."""
    documents = [i for i in submission.parties.attachment_ids if i not in submission.attachment_ids]
    try:
        return evidence.claim_uploads(
            owner=by, ids=[*submission.attachment_ids, *documents], case=case
        )
    except evidence.EvidenceError as exc:
        # With no evidence listed, only the power of attorney can be the file refused.
        only_document = bool(documents) and not submission.attachment_ids
        name = "agent.power_of_attorney" if only_document else "attachments"
        raise IntakeError({name: [str(exc)]}) from None


def _first_clock(case: Case, submission: Submission) -> Deadline:
    """The case's first clock, not yet saved (as `deadlines.start_clock` opens one). Complaints
    and reports: accept or reject within 7 working days of receipt, the day of receipt not
    counted (o121 Art. 15, 45). Consultations: answer within 7 working days."""
    kind = ClockKind.ANSWER if submission.kind == Kind.CONSULTATION else ClockKind.ACCEPT
    return Deadline(
        case=case,
        kind=kind,
        department=submission.unit,
        started_on=local_date(submission.received_at),
        due=_first_due(submission),
    )


def _first_due(submission: Submission) -> dt.date:
    """When the first clock is due: also the new case's `next_due`."""
    days = ANSWER_WORKING_DAYS if submission.kind == Kind.CONSULTATION else ACCEPT_WORKING_DAYS
    return add_working_days(local_date(submission.received_at), days)
