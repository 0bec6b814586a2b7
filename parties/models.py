"""The other parties on a complaint's side: co-complainants and an agent.

A joint complaint (共同投诉, o121 Art. 12) has two or more complainants about the same dispute
with the same operator, each consenting, some of them chosen as representatives (代表人: at most
two under o121, five under o20). A complainant may act through an agent (委托代理人, Art. 11)
who shows a power of attorney (授权委托书), kept as one of the case's evidence files.

The filing complainant stays the case's own party (`Case.party_*`); these rows are written in the
same transaction as the case (`parties.services.record_parties`) and never change afterwards.
ID numbers are kept encrypted, as the accounts keep them (`accounts.identity`).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CoComplainant(models.Model):
    """One more complainant of a joint complaint, as the filer recorded them."""

    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="co_complainants", db_index=False
    )
    position = models.PositiveSmallIntegerField(_("序号"))
    real_name = models.CharField(_("姓名"), max_length=50)
    phone = models.CharField(_("联系电话"), max_length=20)
    # Fernet ciphertext of the GB 11643 number (`accounts.identity.encrypt_id_number`), or "".
    id_number_encrypted = models.TextField(blank=True, default="", editable=False)
    consented = models.BooleanField(_("同意共同投诉"))
    is_representative = models.BooleanField(_("代表人"), default=False)
    created_at = models.DateTimeField(_("登记时间"))

    class Meta:
        ordering = ["case_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["case", "position"], name="co_complainant_position"),
            # o121 Art. 12: joined with their consent; a row without it is never written.
            models.CheckConstraint(
                condition=models.Q(consented=True), name="co_complainant_consented"
            ),
        ]
        verbose_name = _("共同投诉人")
        verbose_name_plural = _("共同投诉人")

    def __str__(self) -> str:
        return self.real_name


class Agent(models.Model):
    """The agent a complaint is filed through, with the power of attorney they hold."""

    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="agent")
    real_name = models.CharField(_("姓名"), max_length=50)
    phone = models.CharField(_("联系电话"), max_length=20)
    id_number_encrypted = models.TextField(blank=True, default="", editable=False)
    power_of_attorney = models.OneToOneField(
        "cases.Attachment",
        on_delete=models.PROTECT,
        related_name="power_of_attorney_for",
        verbose_name=_("授权委托书"),
    )
    created_at = models.DateTimeField(_("登记时间"))

    class Meta:
        ordering = ["case_id"]
        verbose_name = _("委托代理人")
        verbose_name_plural = _("委托代理人")

    def __str__(self) -> str:
        return self.real_name


class FilerRepresentative(models.Model):
    """The filing complainant of a joint complaint is one of its representatives (代表人).

    The filer is the case's own party, not a `CoComplainant` row, so their choice is kept here:
    a row exists exactly when they are a representative, and counts toward the same limit as
    the co-complainants marked `is_representative` (`parties.intake.MAX_REPRESENTATIVES`)."""

    case = models.OneToOneField(
        "cases.Case", on_delete=models.PROTECT, related_name="filer_representative"
    )
    created_at = models.DateTimeField(_("登记时间"))

    class Meta:
        ordering = ["case_id"]
        verbose_name = _("投诉人为代表人")
        verbose_name_plural = _("投诉人为代表人")

    def __str__(self) -> str:
        return str(self.case_id)
