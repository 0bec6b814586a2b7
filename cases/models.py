"""Complaints, reports and consultations; their evidence, event log and running clocks.

A case's state changes only through `cases.services.perform` (see DESIGN.md, "The spine").
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    COMPLAINT = "complaint", _("投诉")
    REPORT = "report", _("举报")
    CONSULTATION = "consultation", _("咨询")


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("待受理")
    ACCEPTED = "accepted", _("已受理")
    MEDIATING = "mediating", _("调解中")
    VERIFYING = "verifying", _("核查中")
    CLOSED = "closed", _("已办结")


class Outcome(models.TextChoices):
    REJECTED = "rejected", _("不予受理")
    WITHDRAWN = "withdrawn", _("已撤回")
    MEDIATED = "mediated", _("调解成功")
    TERMINATED = "terminated", _("终止调解")
    REFERRED = "referred", _("告知其他部门")
    DUPLICATE = "duplicate", _("重复举报")
    CASE_FILED = "case_filed", _("已立案")
    NOT_FILED = "not_filed", _("不予立案")
    ANSWERED = "answered", _("已答复")
    CONVERTED = "converted", _("已转为投诉举报")


class Rules(models.TextChoices):
    O20 = "o20", _("市场监督管理投诉举报处理暂行办法 (总局令第20号)")
    O121 = "o121", _("市场监督管理投诉举报处理办法 (总局令第121号)")


class Channel(models.TextChoices):
    WEB = "web", _("网站")
    APP = "app", _("手机应用")
    HOTLINE = "hotline", _("12315热线")
    LETTER = "letter", _("信函")
    VISIT = "visit", _("来访")
    GOV_12345 = "12345", _("12345政务热线")


class Case(models.Model):
    # Unique through Meta.constraints: one index, without the pattern-ops twin a unique field
    # gets on PostgreSQL (numbers are looked up whole, never by prefix).
    number = models.CharField(_("案件编号"), max_length=32)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.SUBMITTED
    )
    outcome = models.CharField(_("办理结果"), max_length=16, choices=Outcome.choices, blank=True)
    rules = models.CharField(_("适用规章"), max_length=8, choices=Rules.choices)
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    # Where the case is now (the department whose intake or handler holds it) and who handles it.
    # Foreign keys without an index of their own lead a composite index in Meta.indexes.
    department = models.ForeignKey(
        "departments.Department", on_delete=models.PROTECT, related_name="cases", db_index=False
    )
    handler_unit = models.ForeignKey(
        "departments.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="handled_cases",
        db_index=False,
    )
    received_at = models.DateTimeField(_("接收时间"), db_index=True)

    # The consumer account the case belongs to (null when a hotline caller has no account).
    consumer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        db_index=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The complainant / reporter as recorded on the case (snapshot; a hotline caller's details).
    party_name = models.CharField(_("姓名"), max_length=50)
    party_phone = models.CharField(_("联系电话"), max_length=20)
    party_address = models.CharField(_("通信地址"), max_length=300, blank=True)

    respondent = models.ForeignKey(
        "businesses.Business",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cases",
    )
    respondent_name = models.CharField(_("被投诉举报方"), max_length=200, blank=True)
    respondent_uscc = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    respondent_address = models.CharField(_("被投诉举报方地址"), max_length=300, blank=True)
    platform_name = models.CharField(_("平台"), max_length=200, blank=True)
    platform_address = models.CharField(_("平台地址"), max_length=300, blank=True)

    category = models.CharField(_("类别"), max_length=20, blank=True)
    amount = models.DecimalField(
        _("涉及金额"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    occurred_on = models.DateField(_("发生日期"), null=True, blank=True)
    facts = models.TextField(_("事实"), blank=True)
    demand = models.TextField(_("诉求"), blank=True)
    notify_me = models.BooleanField(_("告知我是否立案"), default=False)
    answer = models.TextField(_("答复"), blank=True)

    is_major = models.BooleanField(_("重大疑难"), default=False)
    # An open authority dispute (管辖争议, o121 Art. 33): the department the holder holds
    # competent, and whether it refused (then the common superior designates). Both are cleared
    # when the dispute is settled, withdrawn or the case closes (`cases.services`).
    disputed_with = models.ForeignKey(
        "departments.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # Meta.indexes: a partial index holds only the disputed cases
        verbose_name=_("管辖争议对方部门"),
    )
    dispute_refused = models.BooleanField(_("对方不同意管辖"), default=False)
    # Set while the clocks are paused for testing or appraisal (workflow `pause` / `resume`).
    paused_since = models.DateField(_("计时中止日"), null=True, blank=True)
    amount_recovered = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(null=True, blank=True)
    resolved = models.BooleanField(null=True, blank=True)
    rating_comment = models.TextField(blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    linked_case = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    # The earliest due date of the case's open clocks (None without one): what the queues sort
    # by and narrow the deadline queues with. Written wherever clocks open, close or move:
    # `cases.deadlines` (`start_clock`; `settle_next_due` once per `perform`; `settle_next_due_of`
    # for the notice clocks met on delivery), intake and the workload generator.
    next_due = models.DateField(_("下一到期日"), null=True, blank=True, editable=False)

    version = models.PositiveIntegerField(default=1)
    # Hash of the newest event: makes the removal of the last event detectable (verify_events).
    event_head = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["number"], name="case_number_unique")]
        indexes = [
            # Queue pages (workbench.selectors, cases.access.held_then_handled): a subtree's
            # cases by status, counted and joined to their clocks from the index alone.
            models.Index(fields=["department", "status", "id"], name="case_dept_status_id"),
            models.Index(fields=["handler_unit", "status"], name="case_handler_status"),
            models.Index(
                fields=["handler_unit", "status", "department", "id"],
                name="case_handled_elsewhere",
                condition=~models.Q(Exact(models.F("handler_unit"), models.F("department"))),
            ),
            models.Index(fields=["consumer", "-received_at"], name="case_consumer_recent"),
            # The deadline queues' candidates (next due before a date), and a page of a queue
            # sorted by next due date picked from the index alone (`workbench.pages.page_rows`).
            models.Index(
                fields=["department", "status", "next_due"],
                include=["number", "id"],
                name="case_dept_status_due",
            ),
            # The monitoring overview's "now" flags: the holders of the open cases whose clocks
            # are marked, read from this small index alone (supervision.stats).
            models.Index(
                fields=["id"],
                include=["department", "handler_unit"],
                condition=models.Q(status__in=["submitted", "accepted", "mediating", "verifying"]),
                name="open_case_holder",
            ),
            # Few cases are disputed: the staff of the department named in an open authority
            # dispute see the case (`cases.access`), read from this small index.
            models.Index(
                fields=["disputed_with"],
                name="case_disputed_with",
                condition=models.Q(disputed_with__isnull=False),
            ),
            # Few cases are linked: the index holds only those.
            models.Index(
                fields=["linked_case"],
                name="case_linked",
                condition=models.Q(linked_case__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status != Status.CLOSED

    @property
    def public_department(self):
        """The unit named in public: stations act in their county bureau's name."""
        return (self.handler_unit or self.department).county_bureau


class Visibility(models.TextChoices):
    PUBLIC = "public", _("公开")
    INTERNAL = "internal", _("内部")


class CaseEvent(models.Model):
    """Append-only timeline entry, SHA-256 chained to the previous event of the same case."""

    # Indexed by the leading column of event_seq_per_case.
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events", db_index=False)
    seq = models.PositiveIntegerField()
    at = models.DateTimeField()
    action = models.CharField(max_length=32)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    department = models.ForeignKey(
        "departments.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # Meta.indexes: one index, no pattern-ops twin (codes are never LIKEd)
    )
    visibility = models.CharField(max_length=10, choices=Visibility.choices)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["case_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="event_seq_per_case")]
        indexes = [models.Index(fields=["department"], name="event_department")]


class ClockKind(models.TextChoices):
    ACCEPT = "accept", _("受理期限")
    MEDIATE = "mediate", _("调解期限")
    NOTIFY_TERMINATION = "notify_termination", _("终止调解告知期限")
    VERIFY = "verify", _("核查期限")
    NOTIFY_DECISION = "notify_decision", _("立案告知期限")
    CLUE_VERIFY = "clue_verify", _("线索核查期限")
    ANSWER = "answer", _("答复期限")
    SETTLE_AUTHORITY = "settle_authority", _("管辖协商期限")


class Deadline(models.Model):
    """One running clock. `due` moves by the working days spent paused."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="deadlines")
    kind = models.CharField(max_length=24, choices=ClockKind.choices)
    department = models.ForeignKey(
        "departments.Department", on_delete=models.PROTECT, related_name="+", db_index=False
    )  # Meta.indexes: one index, no pattern-ops twin (codes are never LIKEd)
    started_on = models.DateField()
    due = models.DateField(db_index=True)
    paused_since = models.DateField(null=True, blank=True)
    # Working days added by an approved extension (report verification: +15 once, CF Art. 18).
    extended_days = models.PositiveSmallIntegerField(default=0)
    met_at = models.DateTimeField(null=True, blank=True)
    cancelled = models.BooleanField(default=False)
    due_soon = models.BooleanField(default=False)
    overdue = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due", "id"]
        indexes = [
            models.Index(fields=["department"], name="deadline_department"),
            models.Index(
                fields=["due"],
                name="open_deadline_due",
                condition=models.Q(met_at__isnull=True, cancelled=False),
            ),
            # A case's next due date and its late clocks (queue pages), from the index alone.
            models.Index(
                fields=["case", "due"],
                name="open_deadline_case",
                include=["paused_since", "overdue", "due_soon"],
                condition=models.Q(met_at__isnull=True, cancelled=False),
            ),
            # The sweep's reads of marked clocks (supervision.sweeps): a few thousand rows.
            models.Index(
                fields=["due"],
                name="open_deadline_due_soon",
                condition=models.Q(met_at__isnull=True, cancelled=False, due_soon=True),
            ),
            models.Index(
                fields=["due"],
                name="open_deadline_overdue",
                condition=models.Q(met_at__isnull=True, cancelled=False, overdue=True),
            ),
            # The monitoring overview's "now" flags (supervision.stats), from the index alone.
            models.Index(
                fields=["case", "overdue", "due_soon"],
                name="flagged_open_clock",
                condition=models.Q(met_at__isnull=True, cancelled=False)
                & (models.Q(overdue=True) | models.Q(due_soon=True)),
            ),
        ]

    @property
    def is_open(self) -> bool:
        return self.met_at is None and not self.cancelled


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"evidence/{instance.created_at:%Y/%m}/{instance.id.hex}"


class Attachment(models.Model):
    """Evidence: uploaded by its owner, on at most one case, stored under a generated name."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="attachments"
    )
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="attachments"
    )
    name = models.CharField(max_length=200)
    size = models.PositiveIntegerField()
    content_type = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)
    file = models.FileField(upload_to=attachment_path, max_length=200)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at"]


class IdempotencyKey(models.Model):
    """A create request's key: a retry with the same key and body returns the same case."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="one_idempotency_key_per_user")
        ]
