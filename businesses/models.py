"""Operators (经营者): the businesses consumers complain about, and platforms they sell on."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Business(models.Model):
    name = models.CharField(_("名称"), max_length=200, db_index=True)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, blank=True, db_index=True)
    address = models.CharField(_("地址"), max_length=300, blank=True)
    county = models.ForeignKey(
        "departments.Department",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    is_platform = models.BooleanField(_("第三方交易平台"), default=False)
    odr_enrolled = models.BooleanField(_("已加入在线消费纠纷解决（ODR）"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            # One record per registered operator; businesses known only by name have no code.
            models.UniqueConstraint(
                fields=["uscc"], condition=~models.Q(uscc=""), name="one_business_per_uscc"
            )
        ]
        verbose_name = _("经营者")
        verbose_name_plural = _("经营者")

    def __str__(self) -> str:
        return self.name
