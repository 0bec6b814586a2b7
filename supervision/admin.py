"""Read-only admin views of supervision: orders are raised, answered and escalated only through
`supervision.services` (each writes a hash-chained case event), so the admin never edits them."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from supervision.models import AlertPreference, SupervisionOrder, Tracking


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(SupervisionOrder)
class SupervisionOrderAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "case",
        "kind",
        "from_department",
        "to_department",
        "due",
        "status",
        "round",
        "created_at",
    )
    list_filter = ("kind", "status")
    search_fields = ("case__number", "from_department__code", "to_department__code")
    list_select_related = ("case", "from_department", "to_department")


@admin.register(Tracking)
class TrackingAdmin(ReadOnlyAdmin):
    list_display = ("case", "from_department", "every_n_working_days", "next_order_on", "ended_at")
    search_fields = ("case__number",)
    list_select_related = ("case", "from_department")


@admin.register(AlertPreference)
class AlertPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "by_sms", "updated_at")
    search_fields = ("user__username",)
    raw_id_fields = ("user",)
