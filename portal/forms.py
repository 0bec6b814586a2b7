"""Consumer portal forms. They check shape only (present, long enough, a number, a date); what a
case needs and who may do what is decided by `cases.intake` and `cases.services`."""

from __future__ import annotations

from typing import Any

from cryptography.fernet import InvalidToken
from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.identity import decrypt_id_number, encrypt_id_number
from cases.categories import category_tree

YES, NO = "yes", "no"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Zero or more files from one <input type=file multiple> (evidence)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in files if item]


def _text(label: Any, *, max_length: int, required: bool = True, **attrs: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        widget=forms.TextInput(attrs=attrs),
    )


def _area(label: Any, *, max_length: int, required: bool = True, rows: int = 6) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class StepForm(forms.Form):
    """A step of the submission: its fields are stored in the draft as typed."""

    # Django's defaults say "This field is required." — the portal speaks plain Chinese.
    error_messages_required = _("请填写此项。")

    def __init__(self, *args: Any, kind: str = "complaint", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        for field in self.fields.values():
            field.error_messages["required"] = self.error_messages_required

    def raw_values(self) -> dict[str, str]:
        """What the consumer typed in this step, kept even when it does not validate."""
        return {
            name: self.data.get(self.add_prefix(name), "")
            for name, field in self.fields.items()
            if not isinstance(field, forms.FileField)
        }


class RespondentForm(StepForm):
    """Step 1: whom the complaint or report is about, and where they sold it."""

    respondent_name = _text(_("经营者名称"), max_length=200, autocomplete="organization")
    respondent_uscc = _text(
        _("统一社会信用代码"), max_length=18, required=False, autocapitalize="characters"
    )
    respondent_address = _text(_("经营者地址"), max_length=300)
    online = forms.ChoiceField(
        label=_("购买方式"),
        choices=[
            (NO, _("线下购买（实体店、上门服务等），或在经营者自己的网站购买")),
            (YES, _("在第三方网络交易平台上的店铺购买")),
        ],
        initial=NO,
        widget=forms.RadioSelect,
    )
    platform_name = _text(_("平台名称"), max_length=200, required=False)
    platform_address = _text(_("平台经营者地址"), max_length=300, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["respondent_uscc"].help_text = _("选填。营业执照上的18位代码。")
        if self.kind == "report":
            self.fields["respondent_name"].label = _("被举报经营者名称")
            self.fields["respondent_address"].label = _("违法行为发生地或经营地址")
        self.fields["respondent_address"].help_text = _(
            "请写明省、市、区县和详细地址，例如：浙江省杭州市西湖区文三路90号。"
            "网购的，填写店铺页面上展示的地址。"
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("online") == YES:
            for name in ("platform_name", "platform_address"):
                if not cleaned.get(name):
                    self.add_error(name, _("在平台上购买的，请填写此项。"))
        return cleaned


class DepartmentForm(StepForm):
    """Step 2: the county department that receives it — a suggested one, or another by code."""

    OTHER = "other"

    department = forms.CharField(label=_("受理部门"), max_length=12)
    department_code = _text(
        _("部门代码"), max_length=12, required=False, inputmode="numeric", pattern="[0-9]*"
    )
    lookup_address = _text(_("地址"), max_length=300, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].error_messages["required"] = _("请选择受理部门。")
        self.fields["department_code"].help_text = _("6位行政区划代码，例如杭州市西湖区为 330106。")
        self.fields["lookup_address"].help_text = _("输入地址，系统会推荐有管辖权的部门。")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("department") == self.OTHER:
            code = cleaned.get("department_code", "").strip()
            if not code:
                self.add_error("department_code", _("请填写部门代码，或从列表中选择。"))
            cleaned["department"] = code
        return cleaned

    @property
    def chosen_code(self) -> str:
        return str(self.cleaned_data.get("department", ""))


def category_choices() -> list[tuple[str, Any]]:
    groups: list[tuple[str, Any]] = [("", _("请选择（选填）"))]
    for group in category_tree():
        groups.append((group["name"], [(c["code"], c["name"]) for c in group["children"]]))
    return groups


class DetailsForm(StepForm):
    """Step 3 of a complaint or report: what happened, what is asked for, the evidence."""

    category = forms.ChoiceField(label=_("商品或服务类别"), required=False)
    amount = forms.DecimalField(
        label=_("涉及金额（元）"),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    occurred_on = forms.DateField(
        label=_("发生日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    facts = _area(_("事实经过"), max_length=5000)
    demand = _area(_("您的诉求"), max_length=2000, rows=3)
    notify_me = forms.BooleanField(label=_("作出是否立案的决定后告知我"), required=False)
    evidence = MultipleFileField(label=_("证据材料"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        category = self.fields["category"]
        assert isinstance(category, forms.ChoiceField)
        category.choices = category_choices()
        self.fields["amount"].error_messages.update(
            {"invalid": _("请填写数字，例如 199.00。"), "min_value": _("金额不能为负数。")}
        )
        self.fields["occurred_on"].error_messages["invalid"] = _("请填写日期，例如 2026-11-20。")
        self.fields["facts"].help_text = _("时间、地点、买了什么、发生了什么问题，写清楚即可。")
        self.fields["evidence"].help_text = _(
            "可多选。图片、PDF、音频或视频，单个文件不超过20MB，每件最多10个。"
        )
        if self.kind == "report":
            del self.fields["demand"]
            self.fields["facts"].label = _("违法行为的事实和线索")
        else:
            del self.fields["notify_me"]
            self.fields["demand"].help_text = _("例如：退货退款、更换、赔偿。")


class QuestionForm(StepForm):
    """Step 2 of a consultation: the question, with optional evidence."""

    question = _area(_("咨询内容"), max_length=2000)
    evidence = MultipleFileField(label=_("相关材料"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["evidence"].help_text = _("选填。图片、PDF、音频或视频，单个文件不超过20MB。")


class ConfirmForm(StepForm):
    """The last step: the mailing address. The page also carries the draft's token (the
    idempotency key), which the view reads itself: it is not something the consumer typed."""

    contact_address = _text(_("您的联系地址"), max_length=300, autocomplete="street-address")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact_address"].help_text = _("用于接收书面告知，例如不予受理通知书。")
        if self.kind == "consultation":
            self.fields["contact_address"].required = False


MAX_CO_ROWS = 20  # as parties.intake.MAX_CO_COMPLAINANTS
_SEALED = "sealed:"  # an ID number as the session draft keeps it: encrypted


def _seal(value: str) -> str:
    return f"{_SEALED}{encrypt_id_number(value)}" if value else ""


def _unseal(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_SEALED):
        try:
            return decrypt_id_number(value.removeprefix(_SEALED))
        except InvalidToken:
            return ""
    return value


def _id_number_field(label: Any) -> forms.CharField:
    return _text(label, max_length=18, required=False, autocapitalize="characters")


class PartiesForm(StepForm):
    """Step 4 of a complaint (optional): the other complainants of a joint complaint, each with
    their consent (o121 Art. 12), and the agent filing for the complainant with a power of
    attorney (Art. 11). Shown `co_rows` rows at a time; "add a person" shows one more.

    ID numbers typed here are kept in the session draft encrypted, as the accounts keep them."""

    co_rows = forms.IntegerField(
        widget=forms.HiddenInput, min_value=1, max_value=MAX_CO_ROWS, required=False
    )
    # The filer as one of the representatives, counted in the limit with the rows' (intake).
    filer_representative = forms.BooleanField(label=_("本人担任代表人"), required=False)
    agent_name = _text(_("代理人姓名"), max_length=50, required=False, autocomplete="off")
    agent_phone = _text(_("代理人电话"), max_length=20, required=False, inputmode="tel")
    agent_id_number = _id_number_field(_("代理人身份证号码"))
    power_of_attorney = forms.FileField(label=_("授权委托书"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        for key in ("data", "initial"):
            if kwargs.get(key) is not None:
                kwargs[key] = _unsealed(kwargs[key])
        if args and args[0] is not None:
            args = (_unsealed(args[0]), *args[1:])
        super().__init__(*args, **kwargs)
        self.fields["agent_id_number"].help_text = _("选填。")
        self.fields["power_of_attorney"].help_text = _(
            "委托代理人投诉的必须上传。图片或PDF，不超过20MB。"
        )

    @property
    def row_count(self) -> int:
        value = self.data.get(self.add_prefix("co_rows")) or self.initial.get("co_rows")
        try:
            return min(max(int(str(value)), 1), MAX_CO_ROWS)
        except (TypeError, ValueError):
            return 1

    def rows(self) -> list[dict[str, Any]]:
        """The bound fields of the rows shown, for the template."""
        return [
            {"number": i + 1, **{name: self[f"co_{i}_{name}"] for name in ROW_FIELDS}}
            for i in range(self.row_count)
        ]

    def raw_values(self) -> dict[str, str]:
        values = super().raw_values()
        for name in values:
            if name.endswith("id_number"):
                values[name] = _seal(str(values[name]).strip())
        return values

    def clean(self) -> dict[str, Any]:
        """Shape only: a row that is begun names the person and their phone. The rules (consent,
        representatives, valid numbers) are intake's, whose messages come back to the fields."""
        cleaned = super().clean() or {}
        for i in range(MAX_CO_ROWS):
            begun = any(cleaned.get(f"co_{i}_{name}") for name in ("name", "phone", "id_number"))
            for name in ("name", "phone") if begun else ():
                if not cleaned.get(f"co_{i}_{name}"):
                    self.add_error(f"co_{i}_{name}", self.error_messages_required)
        if cleaned.get("agent_phone") and not cleaned.get("agent_name"):
            self.add_error("agent_name", self.error_messages_required)
        cleaned["co_complainants"] = _people(cleaned)
        if cleaned.get("filer_representative") and not cleaned["co_complainants"]:
            # Said here rather than at the last step: it is about this screen only.
            self.add_error("filer_representative", FILER_ALONE)
        return cleaned


FILER_ALONE = _("只有共同投诉才能由投诉人担任代表人，请先添加共同投诉人。")


def _people(cleaned: dict[str, Any]) -> list[dict[str, Any]]:
    """The begun rows of the parties step, as the intake body lists them."""
    people = []
    for i in range(MAX_CO_ROWS):
        name = cleaned.get(f"co_{i}_name")
        if not name:
            continue
        person: dict[str, Any] = {
            "real_name": name,
            "phone": cleaned.get(f"co_{i}_phone", ""),
            "consent": bool(cleaned.get(f"co_{i}_consent")),
            "representative": bool(cleaned.get(f"co_{i}_representative")),
        }
        if cleaned.get(f"co_{i}_id_number"):
            person["id_number"] = cleaned[f"co_{i}_id_number"]
        people.append(person)
    return people


def _unsealed(values: Any) -> Any:
    """The values with the draft's encrypted ID numbers opened (a QueryDict is left alone: it
    comes from the browser, never from the draft)."""
    if not isinstance(values, dict) or hasattr(values, "getlist"):
        return values
    return {key: _unseal(value) for key, value in values.items()}


ROW_FIELDS = ("name", "phone", "id_number", "consent", "representative")


def _row_label(n: int, label: Any) -> Any:
    """ "第2位 联系电话": the error summary names the row."""
    return format_lazy(_("第{n}位 {label}"), n=n, label=label)


for _i in range(MAX_CO_ROWS):
    _fields = PartiesForm.base_fields
    _fields[f"co_{_i}_name"] = _text(
        _row_label(_i + 1, _("姓名")), max_length=50, required=False, autocomplete="off"
    )
    _fields[f"co_{_i}_phone"] = _text(
        _row_label(_i + 1, _("联系电话")), max_length=20, required=False, inputmode="tel"
    )
    _fields[f"co_{_i}_id_number"] = _id_number_field(_row_label(_i + 1, _("身份证号码（选填）")))
    # Numbered as the other fields of the row: each box has a name of its own (screen readers,
    # the error summary), and it says that the person consents, not that the filer does.
    _fields[f"co_{_i}_consent"] = forms.BooleanField(
        label=_row_label(_i + 1, _("同意共同投诉")), required=False
    )
    _fields[f"co_{_i}_representative"] = forms.BooleanField(
        label=_row_label(_i + 1, _("推选为代表人")), required=False
    )


# --- actions on a case -------------------------------------------------------------------------


class ActionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def params(self) -> dict[str, Any]:
        """The keyword arguments for `perform` (empty values left out)."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name != "version" and value not in ("", None, [])
        }


class WithdrawForm(ActionForm):
    reason = _area(_("撤回原因"), max_length=2000, required=False, rows=3)


class SupplementForm(ActionForm):
    facts = _area(_("补充的事实"), max_length=5000, required=False, rows=4)
    evidence = MultipleFileField(label=_("补充证据材料"))

    def params(self) -> dict[str, Any]:
        return {"facts": self.cleaned_data["facts"]} if self.cleaned_data.get("facts") else {}


def _to_bool(value: str) -> bool:
    return value == YES


class RateForm(ActionForm):
    satisfaction = forms.TypedChoiceField(
        label=_("满意度"),
        coerce=int,
        choices=[
            ("5", _("5 非常满意")),
            ("4", _("4 满意")),
            ("3", _("3 一般")),
            ("2", _("2 不满意")),
            ("1", _("1 非常不满意")),
        ],
        widget=forms.RadioSelect,
    )
    resolved = forms.TypedChoiceField(
        label=_("问题是否已解决"),
        coerce=_to_bool,
        choices=[(YES, _("已解决")), (NO, _("未解决"))],
        widget=forms.RadioSelect,
    )
    comment = _area(_("评价意见"), max_length=2000, required=False, rows=3)


ACTION_FORMS: dict[str, type[ActionForm]] = {
    "withdraw": WithdrawForm,
    "supplement": SupplementForm,
    "rate": RateForm,
}
