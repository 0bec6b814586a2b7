"""Consumer portal forms. They check shape only (present, long enough, a number, a date); what a
case needs and who may do what is decided by `cases.intake` and `cases.services`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

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
