"""Supervision (督办): orders from the 12315 work body above to a unit that is late, tracking of
major and difficult cases (跟踪督办), and the marks that keep the sweep from saying anything twice.

Every row here is written by `supervision.services` or `supervision.sweeps`; both lock the case
row before they touch its orders, so two sweeps (or a sweep and a supervisor) never race.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OrderKind(models.TextChoices):
    OVERDUE = "overdue", _("超期督办")
    MANUAL = "manual", _("人工督办")
    TRACKING = "tracking", _("跟踪督办")


class OrderStatus(models.TextChoices):
    OPEN = "open", _("待答复")
    ANSWERED = "answered", _("已答复")
    ESCALATED = "escalated", _("已升级督办")


class Tracking(models.Model):
    """A major or difficult case under tracking supervision: the unit holding it owes a progress
    report every `every_n_working_days` until the case closes. `next_order_on` is the day the
    sweep raises the next tracking order; the sweep claims it by a conditional update."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="trackings")
    from_department = models.ForeignKey(
        "departments.Department", on_delete=models.PROTECT, related_name="+"
    )
    every_n_working_days = models.PositiveSmallIntegerField(_("报告周期（工作日）"))
    next_order_on = models.DateField(_("下次督办日期"))
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(_("开始时间"))
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("跟踪督办")
        verbose_name_plural = _("跟踪督办")
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(ended_at__isnull=True),
                name="one_running_tracking_per_case",
            ),
            models.CheckConstraint(
                condition=models.Q(every_n_working_days__gte=1), name="tracking_period_positive"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_order_on"],
                name="tracking_running_next",
                condition=models.Q(ended_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} / {self.every_n_working_days}"


class SupervisionOrder(models.Model):
    """A supervision order (督办单) from a 12315 work body to the unit holding a case.

    `round` counts escalations: the first order is round 0, the order that replaces it one level
    up is round 1, and so on up to the national body. The unique constraint on (deadline, round)
    for overdue orders is what makes "an overdue clock raises exactly one order" hold even if two
    sweeps run at once."""

    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="supervision_orders"
    )
    deadline = models.ForeignKey(
        "cases.Deadline",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="supervision_orders",
    )
    tracking = models.ForeignKey(
        Tracking, on_delete=models.PROTECT, null=True, blank=True, related_name="orders"
    )
    kind = models.CharField(_("督办类型"), max_length=10, choices=OrderKind.choices)
    from_department = models.ForeignKey(
        "departments.Department",
        on_delete=models.PROTECT,
        related_name="supervision_orders_issued",
        db_index=False,  # leads order_from_status
        verbose_name=_("督办单位"),
    )
    to_department = models.ForeignKey(
        "departments.Department",
        on_delete=models.PROTECT,
        related_name="supervision_orders_received",
        db_index=False,  # leads order_to_status
        verbose_name=_("被督办单位"),
    )
    instructions = models.TextField(_("督办要求"))
    due = models.DateField(_("答复期限"))
    status = models.CharField(
        _("状态"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.OPEN
    )
    response = models.TextField(_("答复"), blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    responded_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    escalated_to = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="escalated_from",
    )
    round = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(_("督办时间"), default=timezone.now)
    # None: raised by the sweep.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    idempotency_key = models.CharField(max_length=100, blank=True)
    request_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("督办单")
        verbose_name_plural = _("督办单")
        constraints = [
            models.UniqueConstraint(
                fields=["deadline", "round"],
                condition=models.Q(kind="overdue"),
                name="one_overdue_order_per_clock_round",
            ),
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="one_order_per_idempotency_key",
            ),
        ]
        indexes = [
            models.Index(fields=["due"], name="order_open_due", condition=models.Q(status="open")),
            models.Index(fields=["to_department", "status"], name="order_to_status"),
            models.Index(fields=["from_department", "status"], name="order_from_status"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.from_department_id}→{self.to_department_id}"

    @property
    def is_open(self) -> bool:
        return self.status == OrderStatus.OPEN


class DueSoonNotice(models.Model):
    """That the unit was told a clock is due soon. Keyed by the due date, so a clock whose due date
    moved (a resumed pause, an extension) is announced again, and never twice for one date."""

    deadline = models.ForeignKey("cases.Deadline", on_delete=models.CASCADE, related_name="+")
    due = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["deadline", "due"], name="one_due_soon_notice_per_due")
        ]


class AlertPreference(models.Model):
    """Whether a staff member wants supervision alerts by SMS and by e-mail as well as in the app
    (in-app messages are always written). Without a row both are on; SMS also needs a phone on
    the account and the account's own `notify_sms`, e-mail an address on the account."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="supervision_alerts"
    )
    by_sms = models.BooleanField(_("督办提醒发送短信"), default=True)
    by_email = models.BooleanField(_("督办提醒发送电子邮件"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user_id"]
        verbose_name = _("督办提醒设置")
        verbose_name_plural = _("督办提醒设置")


class Rollup(models.Model):
    """A counter behind the monitoring overview (`supervision.rollups`): what the cases held in
    `unit`'s subtree under `child` (the next unit down their path; "" for the unit's own cases)
    count for `metric` / `key` on `day`. Kept exact in the transaction of every change."""

    # Also the index the overview reads: unit = ?, metric IN (...), day BETWEEN ? AND ?.
    pk = models.CompositePrimaryKey("unit", "metric", "day", "key", "child")
    unit = models.ForeignKey(
        "departments.Department", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    child = models.CharField(max_length=12, blank=True)
    day = models.DateField()  # rollups.NOW for figures without a day (open cases)
    metric = models.CharField(max_length=20)
    key = models.CharField(max_length=32, blank=True)  # "consultation/verifying": 22
    n = models.BigIntegerField(default=0)
    amount = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        ordering = ["unit", "metric", "day", "key", "child"]
