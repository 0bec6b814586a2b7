"""The outbox in the admin, for superusers only: read-only, since rows are written by the change
that caused them and marked by delivery. The one write gives failed rows another chance: a row
that failed MAX_ATTEMPTS times waits for an admin (`notifications.tasks`). Recipients show by
name and phones masked, as in the user admin."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.identity import mask_phone
from notifications.models import Notification
from notifications.tasks import MAX_ATTEMPTS


class DeliveryFilter(admin.SimpleListFilter):
    title = _("发送状态")
    parameter_name = "sent"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("yes", _("已发送")),
            ("pending", _("待发送")),
            ("failed", _("发送失败")),
            ("given_up", _("已停止重试")),
        ]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Notification]
    ) -> QuerySet[Notification]:
        unsent = queryset.filter(sent_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(sent_at__isnull=False)
        if self.value() == "pending":
            return unsent.filter(last_error="")
        if self.value() == "failed":
            return unsent.exclude(last_error="")
        if self.value() == "given_up":
            return unsent.filter(attempts__gte=MAX_ATTEMPTS)
        return queryset


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "channel",
        "recipient_name",
        "masked_phone",
        "case",
        "subject",
        "created_at",
        "sent_at",
        "attempts",
    )
    list_filter = ("channel", DeliveryFilter)
    search_fields = ("subject", "case__number", "recipient__username")
    list_select_related = ("recipient", "case")
    show_full_result_count = False
    fields = (
        "channel",
        "recipient_name",
        "masked_phone",
        "case",
        "deadline",
        "subject",
        "body",
        "created_at",
        "sent_at",
        "read_at",
        "attempts",
        "not_before",
        "last_error",
    )
    readonly_fields = fields
    actions = ["retry_delivery"]

    @admin.display(description=_("接收人"))
    def recipient_name(self, obj: Notification) -> str:
        return obj.recipient.display_name if obj.recipient is not None else ""

    @admin.display(description=_("手机号"))
    def masked_phone(self, obj: Notification) -> str:
        return mask_phone(obj.phone)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("重新投递所选未发送的通知"))
    def retry_delivery(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        """Reset the attempts of unsent rows; the next delivery run (every minute) tries them.
        The last error stays on the row until a delivery succeeds."""
        count = queryset.filter(sent_at__isnull=True).update(attempts=0, not_before=None)
        self.message_user(
            request,
            ngettext("%(n)d 条通知将重新投递。", "%(n)d 条通知将重新投递。", count) % {"n": count},
            messages.SUCCESS if count else messages.WARNING,
        )
