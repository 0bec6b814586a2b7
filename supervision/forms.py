"""Supervision forms: they check shape only; `supervision.services` decides the rest and its
field errors come back onto the same form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from supervision.models import AlertPreference
from supervision.services import MAX_TEXT, MAX_TRACKING_PERIOD, order_days


class OrderForm(forms.Form):
    instructions = forms.CharField(
        label=_("督办要求"),
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("写明要求被督办单位办理的事项。"),
    )
    due = forms.DateField(
        label=_("答复期限"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["due"].help_text = _("不填则为 %(n)d 个工作日后。") % {"n": order_days()}


class TrackingForm(forms.Form):
    every_n_working_days = forms.IntegerField(
        label=_("进展报告周期（工作日）"),
        min_value=1,
        max_value=MAX_TRACKING_PERIOD,
        initial=5,
        help_text=_("承办单位每隔该数量的工作日报告一次办理进展，直至办结。"),
    )


class RespondForm(forms.Form):
    note = forms.CharField(
        label=_("答复内容"), max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 3})
    )


class AlertPreferenceForm(forms.ModelForm):
    class Meta:
        model = AlertPreference
        fields = ["by_sms", "by_email"]
        labels = {"by_sms": _("收到督办单或期限临近时发短信提醒我")}
