"""The hotline desk's form: one page for a call, a letter or a visit, whatever its kind.

Like every form here it checks shape only (a choice from the list, a date, a number, a length).
Whether the case has what the rules require — the caller's phone, the respondent's address, a
demand for a complaint, a county-level department, a receipt time not in the future, each
co-complainant's details and the representatives' number (o121 Art. 12), an agent's power of
attorney (Art. 11) — is `cases.intake`'s decision (with `parties.intake`); its messages come back
onto these fields through `INTAKE_FIELDS`, the row of a co-complainant by its position.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from cases.categories import category_tree
from cases.models import Channel, Kind
from parties.intake import MAX_CO_COMPLAINANTS, row_of_error

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
    "filer_representative": "filer_representative",
    "agent.real_name": "agent_name",
    "agent.phone": "agent_phone",
    "agent.id_number": "agent_id_number",
    "agent.power_of_attorney": "power_of_attorney",
}
# Problems with the whole list or the whole agent: shown at the top of their part of the form.
PARTY_GROUPS = ("co_complainants", "agent")
MAX_CO_ROWS = MAX_CO_COMPLAINANTS
NO_CONSENT = _("请向此人确认同意共同投诉；未同意的不能列为共同投诉人。")


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


def _row_label(n: int, label: Any) -> Any:
    """ "第2位 联系电话": the error summary names the row."""
    return format_lazy(_("第{n}位 {label}"), n=n, label=label)


@dataclass(frozen=True)
class KeptDocument:
    """The power of attorney the page carries between its sendings: the id and name of the agent's
    unused upload (a file input cannot be refilled when the page comes back), or why the file
    sent this time was not kept."""

    id: str = ""
    name: str = ""
    problem: str = ""


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

    # A joint complaint's other complainants (rows co_0_… to co_19_…, added below the class) and
    # the agent the complaint is made through (o121 Arts. 11-12). Complaints only.
    co_rows = forms.CharField(widget=forms.HiddenInput, required=False)
    # The caller (the complainant of part 2) as one of the representatives: counted in the limit
    # with the rows' by intake, which refuses it without any co-complainant.
    filer_representative = forms.BooleanField(label=_("来电人担任代表人"), required=False)
    agent_name = _text(_("代理人姓名"), max_length=50, autocomplete="off")
    agent_phone = _text(_("代理人电话"), max_length=20, inputmode="tel", autocomplete="off")
    agent_id_number = _text(
        _("代理人身份证号码"), max_length=18, autocapitalize="characters", autocomplete="off"
    )
    # Never bound to a file: the view keeps an upload at once and the page carries its id.
    power_of_attorney = forms.FileField(
        label=_("授权委托书"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/gif,image/webp,.pdf"}),
    )
    power_of_attorney_id = forms.CharField(widget=forms.HiddenInput, required=False)
    drop_power_of_attorney = forms.BooleanField(label=_("删除已上传的授权委托书"), required=False)

    def __init__(self, *args: Any, document: KeptDocument | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"received_at": local_now_minute()})
        super().__init__(*args, **kwargs)
        self.document = document or KeptDocument()
        # Intake's problems with a whole part (too many representatives, the same person twice).
        self.group_errors: dict[str, list[str]] = {}
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
        self.fields["agent_id_number"].help_text = _("选填。")
        self.fields["power_of_attorney"].help_text = _(
            "图片或PDF，不超过20MB。来信、来访附有的授权委托书扫描后上传。"
            "来电人自称代理人但尚未提交授权委托书的，请告知其提交，收到前不能登记为代理人。"
        )

    def clean(self) -> dict[str, Any]:
        """A purchase on a platform names the platform: its domicile decides jurisdiction too.
        A co-complainant is listed only once the agent has asked them (or their caller) for
        consent on the call; and a power of attorney sent but refused is named at its input."""
        cleaned = super().clean() or {}
        if cleaned.get("kind") != Kind.CONSULTATION and cleaned.get("online") == YES:
            for name in ("platform_name", "platform_address"):
                if not cleaned.get(name):
                    self.add_error(name, _("在平台上购买的，请填写此项。"))
        if cleaned.get("kind") == Kind.COMPLAINT:
            for i in self.begun_rows():
                if not cleaned.get(f"co_{i}_consent"):
                    self.add_error(f"co_{i}_consent", NO_CONSENT)
        if self.document.problem:
            self.add_error("power_of_attorney", self.document.problem)
        return cleaned

    # --- co-complainant rows ----------------------------------------------------------------

    @property
    def row_count(self) -> int:
        """How many co-complainant rows the page shows (one at least; "add" shows one more)."""
        value = self.data.get("co_rows") if self.is_bound else self.initial.get("co_rows")
        return rows_shown(value)

    def rows(self) -> list[dict[str, Any]]:
        """The bound fields of the rows shown, for the template."""
        return [
            {"number": i + 1, **{name: self[f"co_{i}_{name}"] for name in CO_ROW_FIELDS}}
            for i in range(self.row_count)
        ]

    def focus_row(self, position: int) -> None:
        """Put the cursor in the name of row `position` (0-based): the row just added."""
        if 0 <= position < MAX_CO_ROWS:
            self.fields[f"co_{position}_name"].widget.attrs["autofocus"] = True

    def begun_rows(self) -> list[int]:
        """The positions of the rows shown that hold anything typed or ticked: each becomes one
        co-complainant of the submission, in order."""
        values: Mapping[str, Any] = self.data if self.is_bound else self.initial
        return [
            i
            for i in range(self.row_count)
            if any(str(values.get(f"co_{i}_{name}") or "").strip() for name in CO_ROW_FIELDS)
        ]

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
        if kind == Kind.COMPLAINT:
            matter.update(self._parties())
        return matter

    def _parties(self) -> dict[str, Any]:
        """`co_complainants`, `filer_representative` and `agent` as the API takes them
        (parties.intake checks them)."""
        data = self.cleaned_data
        parties: dict[str, Any] = {}
        people = [self._person(i) for i in self.begun_rows()]
        if people:
            parties["co_complainants"] = people
        if data.get("filer_representative"):
            parties["filer_representative"] = True
        agent = {
            "real_name": data.get("agent_name") or "",
            "phone": data.get("agent_phone") or "",
            "id_number": data.get("agent_id_number") or "",
            "power_of_attorney": self.document.id,
        }
        if any(agent.values()):
            parties["agent"] = agent
        return parties

    def _person(self, i: int) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "real_name": data.get(f"co_{i}_name") or "",
            "phone": data.get(f"co_{i}_phone") or "",
            "id_number": data.get(f"co_{i}_id_number") or "",
            "consent": bool(data.get(f"co_{i}_consent")),
            "representative": bool(data.get(f"co_{i}_representative")),
        }

    def add_intake_errors(self, fields: dict[str, list[str]]) -> None:
        """Put intake's messages next to the inputs they are about; skip a field whose own shape
        check already failed (its value never reached intake)."""
        for name, messages in fields.items():
            if name in PARTY_GROUPS:
                self.group_errors.setdefault(name, []).extend(messages)
                continue
            target = self._target(name)
            if target is not None and target in self.errors:
                continue
            for message in messages:
                self.add_error(target, message)

    def _target(self, name: str) -> str | None:
        """The field an intake message about `name` belongs to; None: above the form."""
        if name in INTAKE_FIELDS:
            return INTAKE_FIELDS[name]
        found = row_of_error(name)
        rows = self.begun_rows()
        if found is None or found[0] >= len(rows):
            return None
        return f"co_{rows[found[0]]}_{found[1]}"

    @property
    def has_problems(self) -> bool:
        return bool(self.errors or self.group_errors) if self.is_bound else False


CO_ROW_FIELDS = ("name", "phone", "id_number", "consent", "representative")


def rows_shown(value: Any) -> int:
    """The row count the page sent (hidden `co_rows`), within 1 and the limit."""
    try:
        return min(max(int(str(value)), 1), MAX_CO_ROWS)
    except (TypeError, ValueError):
        return 1


for _i in range(MAX_CO_ROWS):
    _fields = HotlineForm.base_fields
    _fields[f"co_{_i}_name"] = _text(
        _row_label(_i + 1, _("姓名")), max_length=50, autocomplete="off"
    )
    _fields[f"co_{_i}_phone"] = _text(
        _row_label(_i + 1, _("联系电话")), max_length=20, inputmode="tel", autocomplete="off"
    )
    _fields[f"co_{_i}_id_number"] = _text(
        _row_label(_i + 1, _("身份证号码（选填）")),
        max_length=18,
        autocapitalize="characters",
        autocomplete="off",
    )
    _fields[f"co_{_i}_consent"] = forms.BooleanField(
        label=_row_label(_i + 1, _("已确认本人同意共同投诉")), required=False
    )
    _fields[f"co_{_i}_representative"] = forms.BooleanField(
        label=_row_label(_i + 1, _("推选为代表人")), required=False
    )


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
