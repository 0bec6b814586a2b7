"""The calendar admin: enter a year's State Council notice before `chinesecalendar` has it."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from workdays.calendar import fallback_years, source_for_year
from workdays.models import EnteredDay, EnteredYear

SOURCE_LABELS = {
    "entered": _("录入的放假通知"),
    "package": _("软件包 chinesecalendar"),
    "fallback": _("法定节假日推算（缺调休）"),
}


def warn_about_fallback_years(request: HttpRequest) -> None:
    """Deadlines reach into next year from autumn on; say early which years lack a notice."""
    this_year = timezone.localdate().year
    years = fallback_years([this_year, this_year + 1])
    if not years:
        return
    messages.warning(
        request,
        gettext(
            "%(years)s 年没有节假日安排数据：工作日暂按周一至周五、扣除法定节假日推算，"
            "没有调休上班日，期限可能相差一两天。请录入国务院办公厅的放假通知并勾选“已录入完整”。"
        )
        % {"years": "、".join(str(year) for year in years)},
    )


class EnteredDayInline(admin.TabularInline):
    model = EnteredDay
    fields = ["date", "name", "is_workday"]
    extra = 3


@admin.register(EnteredYear)
class EnteredYearAdmin(admin.ModelAdmin):
    list_display = ["year", "is_complete", "notice", "day_count", "source_now", "updated_at"]
    list_filter = ["is_complete"]
    inlines = [EnteredDayInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[EnteredYear]:
        return super().get_queryset(request).annotate(day_count=Count("days"))

    @admin.display(description=_("日期数"), ordering="day_count")
    def day_count(self, obj: EnteredYear) -> int:
        return getattr(obj, "day_count", 0)

    @admin.display(description=_("当前数据来源"))
    def source_now(self, obj: EnteredYear) -> str:
        return str(SOURCE_LABELS[source_for_year(obj.year)])

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, object] | None = None
    ) -> HttpResponse:
        if request.method == "GET":
            warn_about_fallback_years(request)
        return super().changelist_view(request, extra_context)


@admin.register(EnteredDay)
class EnteredDayAdmin(admin.ModelAdmin):
    list_display = ["date", "name", "is_workday", "entered_year"]
    list_filter = ["entered_year", "is_workday"]
    search_fields = ["name"]
    date_hierarchy = "date"

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, object] | None = None
    ) -> HttpResponse:
        if request.method == "GET":
            warn_about_fallback_years(request)
        return super().changelist_view(request, extra_context)
