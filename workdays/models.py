"""Holiday notices typed in by an admin for a year that `chinesecalendar` does not carry yet."""

from __future__ import annotations

from datetime import MAXYEAR, MINYEAR

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class EnteredYear(models.Model):
    """One year's State Council notice (国务院办公厅关于某年部分节假日安排的通知).

    Only a complete year is used, and then for the whole year: it overrides the package, so a
    wrong packaged day can be corrected too. The holidays fixed by law need no entry but may be
    entered (workdays.calendar). A half-typed year is ignored, so it never shortens
    or stretches a running deadline while the admin is still at work."""

    year = models.PositiveSmallIntegerField(
        _("年份"),
        unique=True,
        validators=[MinValueValidator(MINYEAR), MaxValueValidator(MAXYEAR)],
    )
    is_complete = models.BooleanField(
        _("已录入完整"),
        default=False,
        help_text=_(
            "勾选后本年以录入的安排为准（覆盖软件包数据）：列出的日期按所填放假或上班；"
            "未列出的法定节假日放假，其余日期周一至周五上班、周末休息。"
        ),
    )
    notice = models.CharField(
        _("通知文号"), max_length=100, blank=True, help_text=_("例如：国办发明电〔2025〕7号")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("节假日安排年度")
        verbose_name_plural = _("节假日安排年度")

    def __str__(self) -> str:
        return str(self.year)


class EnteredDay(models.Model):
    """A date the notice names: a holiday (放假) or a make-up workday (调休上班)."""

    entered_year = models.ForeignKey(
        EnteredYear, on_delete=models.CASCADE, related_name="days", verbose_name=_("年度")
    )
    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(
        _("调休上班"), default=False, help_text=_("勾选表示当天上班（调休）；不勾选表示放假。")
    )
    name = models.CharField(_("名称"), max_length=50, help_text=_("例如：国庆节"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("法定节假日")
        verbose_name_plural = _("法定节假日")

    def __str__(self) -> str:
        return f"{self.date} {self.name}"

    def clean(self) -> None:
        """A day filed under another year would be silently ignored by the calendar."""
        entered_year = getattr(self, "entered_year", None)
        if entered_year is None or self.date is None or self.date.year == entered_year.year:
            return
        raise ValidationError(
            {
                "date": ValidationError(
                    _("日期须在 %(year)s 年内。"),
                    code="wrong_year",
                    params={"year": entered_year.year},
                )
            }
        )
