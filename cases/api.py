"""Cases API: submission, lists, detail, evidence, the category list.

Endpoints check shape only and hand the body to the services (`cases.intake`, `cases.evidence`);
what the caller sees comes from `cases.presenters`. Workflow actions live in `cases.actions_api`.
"""

from __future__ import annotations

import datetime as dt
import time
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Query, Router, Schema, Status, UploadedFile
from ninja.schema import DjangoGetter
from pydantic import Field, StrictBool, field_validator, model_validator
from pydantic_core import PydanticCustomError

from accounts.models import User
from api.auth import signed_in
from api.errors import ApiError
from cases import evidence
from cases.access import (
    get_case_for,
    listed_under,
    staff_condition,
    visible_among,
)
from cases.categories import category_tree
from cases.counting import count_visible
from cases.idempotency import IdempotencyMismatch
from cases.intake import IntakeError, IntakeForbidden, file_case
from cases.models import Case, Deadline, Kind
from cases.models import Status as CaseStatus
from cases.presenters import (
    INTERNAL_CLOCKS,
    attachment_payload,
    case_payload,
    filed_payload,
    summary_rows,
)
from cases.rules import local_date
from departments.models import Department

router = Router(tags=["cases"])

DEFAULT_CREATE_RATE = 30  # per user and minute, each create endpoint together
DEFAULT_UPLOAD_RATE = 60
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 200
LATE_CASES_LISTED = 5_000  # late cases listed for the overdue filter; more are probed case by case


# --- request bodies (shape only; the rules are in cases.intake) -------------------------------


class ObjectIn(Schema):
    """A JSON object nested in a body. ninja's `Schema` reads any value by its attributes, so a
    string or a list where an object belongs would pass as an object with every field unset:
    `"agent": "钱律师"` would file the complaint without its agent and say nothing. Anything but
    an object is refused, as pydantic refuses it elsewhere (422, `应为 JSON 对象。`)."""

    @model_validator(mode="before")
    @classmethod
    def _an_object(cls, value: Any) -> Any:
        # ninja's own validator has wrapped the value already (`DjangoGetter`): look inside.
        raw = value._obj if isinstance(value, DjangoGetter) else value
        if not isinstance(raw, dict):
            raise PydanticCustomError("model_type", "Input should be an object")
        return value


class PlatformIn(ObjectIn):
    name: str | None = None
    address: str | None = None


class RespondentIn(ObjectIn):
    name: str | None = None
    uscc: str | None = Field(None, description="统一社会信用代码 (18 characters)")
    address: str | None = None
    platform: PlatformIn | None = None


class CallerIn(ObjectIn):
    real_name: str | None = None
    phone: str | None = None
    address: str | None = None


class CoComplainantIn(ObjectIn):
    real_name: str | None = None
    phone: str | None = None
    id_number: str | None = Field(None, description="optional; GB 11643, 18 characters")
    consent: StrictBool | None = Field(None, description="must be true (o121 Art. 12)")
    representative: StrictBool | None = Field(
        None, description="a representative (代表人): at most 2 under o121, 5 under o20"
    )


class AgentIn(ObjectIn):
    real_name: str | None = None
    phone: str | None = None
    id_number: str | None = Field(None, description="optional; GB 11643, 18 characters")
    power_of_attorney: str | None = Field(
        None, description="id of your unused upload: the power of attorney, image or PDF"
    )


class HotlineFields(Schema):
    on_behalf_of: CallerIn | None = Field(None, description="hotline agents only: the caller")
    channel: str | None = Field(
        None, description="web|app (anyone); hotline|letter|visit|12345 (hotline agents)"
    )
    received_at: str | None = Field(
        None, description="hotline agents only; ISO 8601 with offset, not in the future"
    )


class ComplaintIn(HotlineFields):
    department: str | None = Field(None, description="county-level department code")
    contact_address: str | None = None
    respondent: RespondentIn | None = None
    category: str | None = Field(None, description="a code from GET /api/v1/categories")
    amount: str | int | float | None = Field(None, description='"199.00": at most 2 decimals')
    occurred_on: str | None = Field(None, description="YYYY-MM-DD")
    facts: str | None = None
    demand: str | None = None
    attachments: list[str] | None = Field(None, description="ids of your unused uploads, ≤ 10")
    co_complainants: list[CoComplainantIn] | None = Field(
        None, description="complaints only: the other complainants of a joint complaint, ≤ 20"
    )
    agent: AgentIn | None = Field(
        None, description="complaints only: the agent filing for the complainant (o121 Art. 11)"
    )
    filer_representative: StrictBool | None = Field(
        None,
        description="complaints with co_complainants only: the filer is a representative (代表人),"
        " counted in the limit with the co-complainants marked representative",
    )

    @field_validator("amount", mode="before")
    @classmethod
    def _no_boolean_amount(cls, value: Any) -> Any:
        """pydantic would read true as 1 and file a claim of 1.00 yuan."""
        if isinstance(value, bool):
            raise PydanticCustomError("amount_type", _("涉及金额应为数字，例如 199.00。"))
        return value


class ReportIn(ComplaintIn):
    notify_me: StrictBool | None = Field(None, description="tell me the filing decision")


class ConsultationIn(HotlineFields):
    department: str | None = Field(None, description="county-level department code")
    question: str | None = None
    attachments: list[str] | None = None


# --- responses ---------------------------------------------------------------------------------


class DepartmentRef(Schema):
    code: str
    name: str
    level: str
    bureau: str


class PlatformOut(Schema):
    name: str
    address: str


class RespondentOut(Schema):
    name: str
    uscc: str
    address: str
    platform: PlatformOut | None


class PartyOut(Schema):
    name: str
    phone: str
    address: str


class AttachmentOut(Schema):
    id: str
    name: str
    size: int
    content_type: str
    url: str


class CoComplainantOut(Schema):
    name: str
    phone: str = Field(description="in full only for the unit holding or handling the case")
    id_number: str | None = Field(description="masked")
    consent: bool
    representative: bool


class AgentOut(Schema):
    name: str
    phone: str = Field(description="in full only for the unit holding or handling the case")
    id_number: str | None = Field(description="masked")
    power_of_attorney: AttachmentOut


class DeadlineOut(Schema):
    kind: str
    due: str = Field(description="YYYY-MM-DD")
    met_at: str | None
    overdue: bool


class EventOut(Schema):
    at: str
    action: str
    by: str
    department: str | None
    note: str
    data: dict[str, Any]
    visibility: str = Field(description="public or internal (only staff see internal events)")


class RatingOut(Schema):
    satisfaction: int
    resolved: bool | None
    comment: str
    rated_at: str | None


class CaseHeader(Schema):
    number: str
    kind: str
    status: str
    outcome: str | None
    rules: str
    channel: str
    department: DepartmentRef = Field(description="consumers and businesses: the public unit")
    handler_unit: DepartmentRef | None = Field(description="staff only")
    received_at: str
    closed_at: str | None
    is_major: bool | None = Field(description="staff only (a supervision mark)")
    version: int


class CaseOut(CaseHeader):
    respondent: RespondentOut | None
    category: str | None
    category_name: str | None
    amount: str | None
    occurred_on: str | None
    facts: str
    demand: str
    question: str | None
    answer: str | None
    notify_me: bool | None
    party: PartyOut
    co_complainants: list[CoComplainantOut] | None = Field(
        description="complaints, for the complainant and staff: the joint complaint's others"
    )
    agent: AgentOut | None = Field(description="complaints, for the complainant and staff")
    filer_representative: bool | None = Field(
        description="complaints, for the complainant and staff: the filer is a representative"
    )
    attachments: list[AttachmentOut]
    deadlines: list[DeadlineOut]
    timeline: list[EventOut]
    allowed_actions: list[str]
    rating: RatingOut | None
    agreement_pdf: str | None = Field(
        description="the mediation agreement (调解书, PDF) of a complaint closed by agreement"
    )


class CaseRow(CaseHeader):
    respondent_name: str | None
    category: str | None
    summary: str
    deadlines: list[DeadlineOut]


class CasePage(Schema):
    count: int
    results: list[CaseRow]


class CategoryOut(Schema):
    code: str
    name: str


class CategoryGroupOut(Schema):
    code: str
    name: str
    children: list[CategoryOut]


class CaseFilters(Schema):
    kind: str | None = Field(None, description="complaint|report|consultation")
    status: str | None = None
    department: str | None = Field(None, description="a department code: its whole subtree")
    overdue: str | None = Field(None, description="true: cases with an overdue clock")
    q: str | None = Field(None, description="case number, respondent name or words in the facts")
    page: str | None = Field(None, description="from 1")
    page_size: str | None = Field(None, description=f"at most {MAX_PAGE_SIZE}")


# --- helpers -----------------------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user


def throttle(*, user: User, bucket: str, limit: int, window: int = 60) -> None:
    """A fixed-window counter per user in the shared cache; 429 with Retry-After beyond `limit`.
    Peaks (15 March, Double 11) are real; a script filing hundreds of cases a minute is not."""
    now = int(time.time())
    start = now - now % window
    count = _count_hit(f"throttle:{bucket}:{user.pk}:{start}", window)
    if count > limit:
        raise ApiError(
            429,
            "rate_limited",
            _("操作过于频繁，请稍后再试。"),
            headers={"Retry-After": str(start + window - now)},
        )


def _count_hit(key: str, window: int) -> int:
    """Add one to the window's counter; the new count. On Redis one command (`_HIT`: INCR and
    EXPIRE; the key names its window, so renewing its expiry is harmless); elsewhere (local
    memory in development and tests) add, then incr."""
    store = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(store, RedisCache):
        redis_key = store.make_and_validate_key(key)
        return int(_hit_script(store._cache)(keys=[redis_key], args=[window]))  # type: ignore[attr-defined]
    store.add(key, 0, timeout=window)
    try:
        return store.incr(key)
    except ValueError:  # expired between add and incr
        store.set(key, 1, timeout=window)
        return 1


# INCR and EXPIRE as one command: one round trip, and cheaper to send than a pipeline (redis-py
# copies its table of reply parsers into every pipeline object).
_HIT = "local n = redis.call('INCR', KEYS[1]) redis.call('EXPIRE', KEYS[1], ARGV[1]) return n"


@lru_cache(maxsize=8)
def _hit_script(cache_client: Any) -> Any:
    """`_HIT` on the server the cache writes to (EVALSHA; loaded again if the server lost it),
    with one Redis client kept for it: Django's cache makes a new one per call."""
    return cache_client.get_client(write=True).register_script(_HIT)


def _submit(request: HttpRequest, kind: str, body: Schema) -> HttpResponse:
    user = _user(request)
    if request.body.lstrip()[:1] != b"{":
        # ninja reads a JSON array or string as an empty object; it is not a submission.
        raise ApiError(400, "malformed", _("请求体不是有效的 JSON 对象。"))
    throttle(
        user=user,
        bucket="create",
        limit=getattr(settings, "CASE_CREATE_RATE_PER_MINUTE", DEFAULT_CREATE_RATE),
    )
    try:
        filing = file_case(
            kind=kind,
            by=user,
            payload=body.model_dump(exclude_unset=True),
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
    except IntakeForbidden as exc:
        raise ApiError(403, "real_name_required", str(exc)) from None
    except IntakeError as exc:
        raise ApiError(422, "invalid", str(exc), fields=exc.fields) from None
    except IdempotencyMismatch as exc:
        raise ApiError(422, "idempotency_mismatch", str(exc)) from None
    return _created(request, filed_payload(filing, user))


def _created(request: HttpRequest, case: dict[str, Any]) -> HttpResponse:
    """201 with the case, rendered as ninja renders a `CaseOut` but not validated again: it is
    `case_payload`, which the GET validates as `CaseOut` (the tests compare both bodies byte for
    byte). The schema still documents the reply (`_CREATE_RESPONSES`)."""
    from api.main import api  # not at import time: api.main imports this module

    return api.create_response(request, case, status=201)


# --- submission --------------------------------------------------------------------------------

_CREATE_RESPONSES: dict[int, Any] = {201: CaseOut}


@router.post("/complaints", response=_CREATE_RESPONSES, auth=signed_in, summary="File a complaint")
def create_complaint(request: HttpRequest, payload: ComplaintIn) -> HttpResponse:
    """201 the case. Accepts `Idempotency-Key`. 403 `real_name_required`; 422 with `fields`."""
    return _submit(request, Kind.COMPLAINT, payload)


@router.post("/reports", response=_CREATE_RESPONSES, auth=signed_in, summary="File a report")
def create_report(request: HttpRequest, payload: ReportIn) -> HttpResponse:
    """201 the case; `department` is where the act occurred (county or above)."""
    return _submit(request, Kind.REPORT, payload)


@router.post("/consultations", response=_CREATE_RESPONSES, auth=signed_in, summary="Ask a question")
def create_consultation(request: HttpRequest, payload: ConsultationIn) -> HttpResponse:
    return _submit(request, Kind.CONSULTATION, payload)


# --- reading -------------------------------------------------------------------------------


@router.get("/cases", response=CasePage, auth=signed_in, summary="Cases the caller may see")
def list_cases(request: HttpRequest, filters: Query[CaseFilters]) -> HttpResponse:
    """`CasePage`, rendered here: the rows are `summary_rows` dicts already of the schema's
    shape, which ninja would otherwise validate field by field (tests/test_case_lists.py)."""
    # The count reads the HELD counters for staff (see cases.counting).
    user = _user(request)
    errors: dict[str, list[str]] = {}
    matching = _filtered(Case.objects.all(), filters, errors, user)
    page = _positive_int(filters.page, "page", 1, None, errors)
    size = _positive_int(filters.page_size, "page_size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, errors)
    if errors:
        raise ApiError(422, "invalid", _("查询条件有误。"), fields=errors)
    offset = (page - 1) * size
    cases = visible_among(user, matching, filters.department)
    rows = summary_rows(cases[offset : offset + size], user, today=local_date(timezone.now()))
    body = {
        "count": count_visible(user, matching, filters.model_dump(exclude={"page", "page_size"})),
        "results": rows,
    }
    return _rendered(request, body)


def _rendered(request: HttpRequest, data: dict[str, Any]) -> HttpResponse:
    """A 200 rendered by the API's renderer, as ninja renders a body it has validated."""
    from api.main import api  # api.main imports this module

    return api.create_response(request, data, status=200)


@router.get("/cases/{number}", response=CaseOut, auth=signed_in, summary="One case")
def case_detail(request: HttpRequest, number: str) -> dict[str, Any]:
    """404 also for a case the caller may not see."""
    user = _user(request)
    return case_payload(get_case_for(user, number), user)


def _filtered(
    cases: QuerySet[Case], filters: CaseFilters, errors: dict, user: User
) -> QuerySet[Case]:
    if filters.kind:
        if filters.kind not in Kind.values:
            errors["kind"] = [_("类型应为 complaint、report 或 consultation。")]
        cases = cases.filter(kind=filters.kind)
    if filters.status:
        if filters.status not in CaseStatus.values:
            errors["status"] = [_("状态无效。")]
        cases = cases.filter(status=filters.status)
    if filters.department:
        cases = _in_department(cases, filters.department, errors, user)
    if filters.overdue:
        cases = _overdue(cases, filters.overdue, errors, user)
    if filters.q:
        cases = _matching(cases, filters.q.strip(), errors)
    return cases


def _in_department(cases: QuerySet[Case], code: str, errors: dict, user: User) -> QuerySet[Case]:
    """The department's subtree. Which unit handles a case is internal routing (charter:
    分转流程不对社会公开): only staff over a case find it by its handling unit (a station);
    everyone else by the unit holding it, the one they are shown."""
    department = Department.objects.filter(code=code).first()
    if department is None:
        errors["department"] = [_("部门不存在。")]
        return cases
    return cases.filter(listed_under(user, department))


def _overdue(cases: QuerySet[Case], value: str, errors: dict, user: User) -> QuerySet[Case]:
    """A clock is overdue when the sweep marked it, or when it is running (not paused) past its
    due date, as the case payload says. Internal clocks count only where the caller is staff:
    the public must not learn of them through the filter (presenters.INTERNAL_CLOCKS)."""
    if value.lower() not in ("true", "false", "1", "0"):
        errors["overdue"] = [_("应为 true 或 false。")]
        return cases
    today = local_date(timezone.now())
    late_clocks = Q(overdue=True) | Q(due__lt=today, paused_since__isnull=True)
    found = _late_cases(today)
    if found is None:  # too many to list: each case's clocks are probed
        late = Deadline.objects.filter(late_clocks, case=OuterRef("pk"), met_at__isnull=True)
        late = late.filter(cancelled=False)
        public_late = late.exclude(kind__in=INTERNAL_CLOCKS)
        condition = Q(Exists(public_late)) | (Q(Exists(late)) & staff_condition(user))
    else:
        public, every = found
        condition = Q(pk__any_of=sorted(public)) | (
            Q(pk__any_of=sorted(every - public)) & staff_condition(user)
        )
    # Either kind of late clock is due before today (see workbench.selectors._has_overdue_clock),
    # so only cases whose next due date has passed are looked at.
    condition = Q(next_due__lt=today) & condition
    wanted = value.lower() in ("true", "1")
    return cases.filter(condition) if wanted else cases.exclude(condition)


def _late_cases(today: dt.date) -> tuple[set[int], set[int]] | None:
    """The cases with a late open clock — (public clocks, any clock) — read first from the
    partial indexes of the late clocks (`open_deadline_overdue`, `open_deadline_due`), or None
    when there are more than LATE_CASES_LISTED. Listed, they let PostgreSQL fetch those cases by
    key; as a subquery it walks the newest cases of the country probing each one's clocks."""
    open_clocks = Deadline.objects.filter(met_at__isnull=True, cancelled=False).order_by()
    arms = [
        open_clocks.filter(condition).values_list("case_id", "kind")
        for condition in (Q(overdue=True), Q(due__lt=today, paused_since__isnull=True))
    ]
    rows = list(arms[0].union(arms[1])[: LATE_CASES_LISTED + 1])
    if len(rows) > LATE_CASES_LISTED:
        return None
    public = {case for case, kind in rows if kind not in INTERNAL_CLOCKS}
    return public, {case for case, _kind in rows}


def _matching(cases: QuerySet[Case], q: str, errors: dict) -> QuerySet[Case]:
    if len(q) > 100:
        errors["q"] = [_("搜索词不能超过100个字。")]
        return cases
    return cases.filter(
        Q(number=q.upper()) | Q(respondent_name__icontains=q) | Q(facts__icontains=q)
    )


def _positive_int(
    value: str | None, name: str, default: int, maximum: int | None, errors: dict
) -> int:
    if not value:
        return default
    # isascii: "²" and other digits int() cannot read pass isdigit().
    number = int(value) if value.isascii() and value.isdigit() and len(value) < 10 else 0
    if number < 1 or (maximum is not None and number > maximum):
        limit = f"1–{maximum}" if maximum else "≥ 1"
        errors[name] = [_("应为整数（%(limit)s）。") % {"limit": limit}]
        return default
    return number


# --- evidence ------------------------------------------------------------------------------


def _store(request: HttpRequest, file: UploadedFile | None, case: Case | None) -> Status:
    user = _user(request)
    throttle(
        user=user,
        bucket="upload",
        limit=getattr(settings, "EVIDENCE_UPLOAD_RATE_PER_MINUTE", DEFAULT_UPLOAD_RATE),
    )
    try:
        if getattr(request, "evidence_too_large", False):
            raise evidence.too_large()
        if file is None:
            message = _("请选择文件。")
            raise ApiError(422, "invalid", message, fields={"file": [message]})
        attachment = evidence.store_upload(owner=user, uploaded_file=file, case=case)
    except evidence.EvidenceError as exc:
        raise ApiError(exc.status, exc.code, str(exc)) from None
    return Status(201, attachment_payload(attachment))


@router.post(
    "/attachments", response={201: AttachmentOut}, auth=signed_in, summary="Upload evidence"
)
def upload(request: HttpRequest, file: UploadedFile | None = File(None)) -> Status:  # noqa: B008
    """Multipart `file`; 201 an upload to reference in a create body (removed unused after 24 h).
    Images, PDF, audio, video only (415), at most 20 MB (413)."""
    return _store(request, file, None)


@router.post(
    "/cases/{number}/attachments",
    response={201: AttachmentOut},
    auth=signed_in,
    summary="Add evidence to a case",
)
def upload_to_case(
    request: HttpRequest,
    number: str,
    file: UploadedFile | None = File(None),  # noqa: B008
) -> Status:
    """The case's parties and the unit handling it; 404 if not visible, 403 for other staff,
    409 once closed, 422 `too_many_attachments` past 10 files."""
    user = _user(request)
    case = get_case_for(user, number)
    if not evidence.may_add_evidence(user, case):
        raise ApiError(403, "forbidden", _("只有当事人和承办单位可以添加证据。"))
    return _store(request, file, case)


# --- reference data ------------------------------------------------------------------------


@router.get("/categories", response=list[CategoryGroupOut], auth=None, summary="Goods and services")
def categories(request: HttpRequest) -> list[dict[str, Any]]:
    """The taxonomy complaints and reports are filed under (`category` takes a child's code)."""
    return category_tree()
