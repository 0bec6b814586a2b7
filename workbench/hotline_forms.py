"""The hotline desk's form: one page for a call, a letter or a visit, whatever its kind.

Like every form here it checks shape only (a choice from the list, a date, a number, a length).
Whether the case has what the rules require — the caller's phone, the respondent's address, a
demand for a complaint, a county-level department, a receipt time not in the future — is
`cases.intake`'s decision; its messages come back onto these fields through `INTAKE_FIELDS`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.categories import category_tree
from cases.models import Channel, Kind

YES, NO = "yes", "no"
OTHER_DEPARTMENT = "other"
LOCAL_MINUTE = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends and shows
DESK_CHANNELS = (Channel.HOTLINE, Channel.LETTER, Channel.VISIT, Channel.GOV_12345)

# cases.intake's field names (API.md body, dotted) -> this form's fields. A name not listed
# (the whole `on_behalf_of`, `respondent` objects, the idempotency key) goes above the form.
INTAKE_FIELDS: dict[str, str] = {
    "department": "department",
    "channel": "channel",
    "received_at": "received_at",
    "contact_address": "caller_address",
    "on_behalf_of.real_name": "caller_name",
    "on_behalf_of.phone": "caller_phone",
    "on_behalf_of.address": "caller_address",
    "respondent.name": "respondent_name",
    "respondent.uscc": "respondent_uscc",
    "respondent.address": "respondent_address",
    "respondent.platform.name": "platform_name",
    "respondent.platform.address": "platform_address",
    "category": "category",
    "amount": "amount",
    "occurred_on": "occurred_on",
    "facts": "facts",
    "demand": "demand",
    "notify_me": "notify_me",
    "question": "question",
}


def local_now_minute() -> str:
    """Now in the platform's time zone, as the datetime-local input shows it."""
    return timezone.localtime().strftime(LOCAL_MINUTE)


def received_moment(value: Any) -> dt.datetime:
    """The receipt time typed, or now when it is missing or unreadable (the rules in force, and
    so the jurisdiction suggested, follow the receipt date)."""
    try:
        moment = forms.DateTimeField().clean(value)
    except ValidationError:
        return timezone.now()
    return moment if isinstance(moment, dt.datetime) else timezone.now()


def category_choices() -> list[tuple[str, Any]]:
    choices: list[tuple[str, Any]] = [("", _("请选择（选填）"))]
    for group in category_tree():
        choices.append((group["name"], [(c["code"], c["name"]) for c in group["children"]]))
    return choices


def _text(label: Any, *, max_length: int, **attrs: Any) -> forms.CharField:
    return forms.CharField(
        label=label, max_length=max_length, required=False, widget=forms.TextInput(attrs=attrs)
    )


def _area(label: Any, *, max_length: int, rows: int) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=False,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class HotlineForm(forms.Form):
    """A case taken by phone, letter or visit, entered by a 12315 agent for the caller."""

    kind = forms.ChoiceField(
        label=_("诉求类型"), choices=Kind.choices, initial=Kind.COMPLAINT, widget=forms.RadioSelect
    )
    channel = forms.ChoiceField(
        label=_("受理渠道"),
        choices=[(c.value, c.label) for c in DESK_CHANNELS],
        initial=Channel.HOTLINE,
    )
    received_at = forms.DateTimeField(
        label=_("受理时间"),
        widget=forms.DateTimeInput(format=LOCAL_MINUTE, attrs={"type": "datetime-local"}),
    )

    caller_name = _text(_("姓名"), max_length=50, autocomplete="off")
    caller_phone = _text(_("联系电话"), max_length=20, inputmode="tel", autocomplete="off")
    caller_address = _text(_("通信地址"), max_length=300, autocomplete="off")

    respondent_name = _text(_("经营者名称"), max_length=200, autocomplete="off")
    respondent_uscc = _text(
        _("统一社会信用代码"), max_length=18, autocapitalize="characters", autocomplete="off"
    )
    respondent_address = _text(_("经营者地址"), max_length=300, autocomplete="off")
    online = forms.ChoiceField(
        label=_("购买方式"),
        choices=[(NO, _("线下或经营者自有网站")), (YES, _("第三方网络交易平台"))],
        initial=NO,
        widget=forms.RadioSelect,
    )
    platform_name = _text(_("平台名称"), max_length=200, autocomplete="off")
    platform_address = _text(_("平台经营者地址"), max_length=300, autocomplete="off")

    department = forms.CharField(label=_("受理部门"), max_length=12, required=False)
    department_code = _text(
        _("部门代码"), max_length=12, inputmode="numeric", pattern="[0-9]*", autocomplete="off"
    )

    category = forms.ChoiceField(label=_("商品或服务类别"), required=False)
    amount = forms.DecimalField(
        label=_("涉及金额（元）"),
        required=False,
        min_value=Decimal(0),
        max_digits=14,
        decimal_places=2,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    occurred_on = forms.DateField(
        label=_("发生日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    facts = _area(_("事实经过"), max_length=5000, rows=5)
    demand = _area(_("诉求"), max_length=2000, rows=2)
    notify_me = forms.BooleanField(label=_("举报人要求告知是否立案"), required=False)
    question = _area(_("咨询内容"), max_length=2000, rows=4)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"received_at": local_now_minute()})
        super().__init__(*args, **kwargs)
        category = self.fields["category"]
        assert isinstance(category, forms.ChoiceField)
        category.choices = category_choices()
        self.fields["received_at"].widget.attrs["max"] = local_now_minute()
        self._chinese_messages()
        self._help_texts()

    def _chinese_messages(self) -> None:
        self.fields["kind"].error_messages["required"] = _("请选择诉求类型。")
        self.fields["channel"].error_messages["required"] = _("请选择受理渠道。")
        received_at = self.fields["received_at"].error_messages
        received_at["required"] = _("请填写受理时间。")
        received_at["invalid"] = _("请填写受理时间，例如 2026-11-20 09:30。")
        self.fields["amount"].error_messages.update(
            {"invalid": _("请填写数字，例如 199.00。"), "min_value": _("金额不能为负数。")}
        )
        self.fields["occurred_on"].error_messages["invalid"] = _("请填写日期，例如 2026-11-20。")
        for field in self.fields.values():
            field.error_messages["invalid_choice"] = _("请从列表中选择。")

    def _help_texts(self) -> None:
        self.fields["received_at"].help_text = _("来电、收信或来访的时间，不能晚于现在。")
        self.fields["caller_address"].help_text = _("用于寄送书面告知；咨询可不填。")
        self.fields["respondent_address"].help_text = _(
            "写明省、市、区县，例如：浙江省杭州市西湖区文三路90号；网购的填店铺展示的地址。"
        )
        self.fields["respondent_uscc"].help_text = _("选填，18位。")
        self.fields["department_code"].help_text = _("6位区划代码，例如杭州市西湖区为 330106。")

    def clean(self) -> dict[str, Any]:
        """A purchase on a platform names the platform: its domicile decides jurisdiction too."""
        cleaned = super().clean() or {}
        if cleaned.get("kind") != Kind.CONSULTATION and cleaned.get("online") == YES:
            for name in ("platform_name", "platform_address"):
                if not cleaned.get(name):
                    self.add_error(name, _("在平台上购买的，请填写此项。"))
        return cleaned

    # --- reading the cleaned values -------------------------------------------------------

    def department_code_chosen(self) -> str:
        """A suggested department chosen by its radio button, or the code typed under "other"."""
        data = self.cleaned_data
        chosen = (data.get("department") or "").strip()
        if chosen in ("", OTHER_DEPARTMENT):
            return str(data.get("department_code") or "").strip()
        return chosen

    def payload(self) -> dict[str, Any]:
        """The submission as `cases.intake.submit_case` takes it (API.md body names), from the
        fields that passed the shape checks; empty values left out."""
        data = self.cleaned_data
        kind = str(data.get("kind") or Kind.COMPLAINT)
        payload: dict[str, Any] = {
            "department": self.department_code_chosen(),
            "channel": data.get("channel") or "",
            "on_behalf_of": {
                "real_name": data.get("caller_name") or "",
                "phone": data.get("caller_phone") or "",
                "address": data.get("caller_address") or "",
            },
        }
        received_at = data.get("received_at")
        if isinstance(received_at, dt.datetime):
            payload["received_at"] = received_at.isoformat()
        if kind == Kind.CONSULTATION:
            payload["question"] = data.get("question") or ""
        else:
            payload.update(self._matter(kind))
        return _without_empty(payload)

    def _matter(self, kind: str) -> dict[str, Any]:
        data = self.cleaned_data
        respondent: dict[str, Any] = {
            "name": data.get("respondent_name") or "",
            "uscc": (data.get("respondent_uscc") or "").upper(),
            "address": data.get("respondent_address") or "",
        }
        if data.get("online") == YES:
            respondent["platform"] = {
                "name": data.get("platform_name") or "",
                "address": data.get("platform_address") or "",
            }
        amount, occurred_on = data.get("amount"), data.get("occurred_on")
        matter: dict[str, Any] = {
            "respondent": respondent,
            "category": data.get("category") or "",
            "amount": str(amount) if amount is not None else "",
            "occurred_on": occurred_on.isoformat() if occurred_on else "",
            "facts": data.get("facts") or "",
        }
        if kind == Kind.COMPLAINT:
            matter["demand"] = data.get("demand") or ""
        if kind == Kind.REPORT:
            matter["notify_me"] = bool(data.get("notify_me"))
        return matter

    def add_intake_errors(self, fields: dict[str, list[str]]) -> None:
        """Put intake's messages next to the inputs they are about; skip a field whose own shape
        check already failed (its value never reached intake)."""
        for name, messages in fields.items():
            target = INTAKE_FIELDS.get(name)
            if target is not None and target in self.errors:
                continue
            for message in messages:
                self.add_error(target, message)


def _without_empty(value: Any) -> Any:
    """Drop empty strings and emptied objects but keep False, and keep the caller's object whole:
    intake then names each missing part of it next to its input."""
    if not isinstance(value, dict):
        return value
    kept = {}
    for key, item in value.items():
        if key != "on_behalf_of":
            item = _without_empty(item)
        if item in ("", {}):
            continue
        kept[key] = item
    return kept
