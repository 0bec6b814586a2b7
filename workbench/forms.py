"""Workbench forms: the queue filters, and one form per workflow action built from its table row.

The forms check shape only (required, type, one of the choices). Whether a unit may receive the
case, whether a number is a duplicate and so on is `cases.services.perform`'s job; its field
errors come back onto the same form (`apply_errors`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cases.models import Case, Kind, Status
from cases.workflow import (
    REJECTION_GROUND_LABELS,
    TERMINATION_GROUND_LABELS,
    ActionSpec,
    ActorKind,
    Param,
    ParamType,
    action_spec,
    dispute_superior_code,
)
from departments.models import Department, Level
from workbench.selectors import SORTS, QueueFilters

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# --- Queue filters ----------------------------------------------------------------------------


def _sort_choices() -> list[tuple[str, str]]:
    return [(key, key) for name in SORTS for key in (name, f"-{name}")]


class QueueFilterForm(forms.Form):
    """The filters of a queue, read from the query string (so a filtered queue is a link)."""

    q = forms.CharField(
        label=_("搜索"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("案件编号、被投诉人或事实"), "accesskey": "s"}
        ),
    )
    kind = forms.ChoiceField(
        label=_("类型"), required=False, choices=[("", _("全部类型")), *Kind.choices]
    )
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部状态")), *Status.choices]
    )
    received_from = forms.DateField(
        label=_("登记日期自"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    received_to = forms.DateField(
        label=_("至"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    sort = forms.ChoiceField(required=False, choices=_sort_choices(), widget=forms.HiddenInput)

    def filters(self) -> QueueFilters:
        """The valid filters (an invalid one is shown as an error and ignored)."""
        data = self.cleaned_data if self.is_valid() else self._valid_part()
        return QueueFilters(
            kind=data.get("kind") or "",
            status=data.get("status") or "",
            q=(data.get("q") or "").strip(),
            received_from=data.get("received_from"),
            received_to=data.get("received_to"),
        )

    def requested_sort(self) -> str:
        return (self.cleaned_data.get("sort") or "") if self.is_bound else ""

    def _valid_part(self) -> dict[str, Any]:
        return {name: value for name, value in self.cleaned_data.items() if name not in self.errors}


# --- Action forms -----------------------------------------------------------------------------

PARAM_LABELS: dict[str, StrOrPromise] = {
    "handler_unit": _("承办单位"),
    "ground": _("依据"),
    "reason": _("理由"),
    "department": _("接收部门"),
    "note": _("情况说明"),
    "terms": _("调解协议内容"),
    "amount_recovered": _("为消费者挽回经济损失（元）"),
    "decision": _("决定"),
    "authority": _("有权处理的部门"),
    "of": _("与之重复的举报编号"),
    "answer": _("答复内容"),
    "kind": _("转为"),
    "instructions": _("督办要求"),
    "due": _("限期办结日期"),
}
# Where an action gives a parameter another meaning than the table above.
ACTION_PARAM_LABELS: dict[tuple[str, str], StrOrPromise] = {
    ("dispute", "department"): _("认为有管辖权的部门"),
    ("designate", "department"): _("指定管辖的部门"),
    ("refuse", "reason"): _("不同意的理由"),
}

ACTION_HELP: dict[str, Promise] = {
    "accept": _("受理后由所选单位承办。分流至市场监管所属内部流转，消费者看到的是县局受理。"),
    "reject": _("不予受理将告知投诉人理由及其他解决途径（协商、消费者协会、仲裁、诉讼）。"),
    "transfer": _("移送有管辖权的县级部门，对方重新计算受理期限。"),
    "escalate": _("报请上级部门处理或指定管辖。"),
    "dispatch": _("分送至下级县级部门受理。"),
    "start_mediation": _("确认双方均同意调解后开始调解。"),
    "pause": _("检定、检测、鉴定期间不计入处理期限。"),
    "record_agreement": _("记录调解协议，案件办结并告知投诉人。"),
    "terminate": _("终止调解后 7 个工作日内告知双方。"),
    "refer_clue": _("发现违法线索的，移交核查（15 个工作日）。"),
    "extend": _("经负责人批准延长核查期限 15 个工作日，仅限一次。"),
    "mark_duplicate": _("同一举报人就同一事实、同一对象重复举报的，不再重复处理。"),
    "supervise": _("向承办单位发出督办要求。"),
    "mark_major": _("标记为重大疑难案件，进行跟踪督办。"),
    "dispute": _(
        "认为应由另一县级部门管辖而对方有异议的，提出管辖争议：双方 7 个工作日内协商，"
        "期间受理期限中止计时；协商不成的，由共同上级部门指定管辖。"
    ),
    "agree": _("同意由本单位管辖：案件移至本单位，重新计算受理期限。"),
    "refuse": _("不同意管辖的，说明理由，由共同上级部门指定管辖。"),
    "withdraw_dispute": _("撤回管辖争议，由本单位继续办理，受理期限恢复计时。"),
    "designate": _("指定有管辖权的县级部门，案件移至该部门并重新计算受理期限。"),
}

PARAM_HELP: dict[str, StrOrPromise] = {
    "department": _("县级部门的六位区划代码，可从列表中选择。"),
    "of": _("例如 J2026112900000042"),
}

CHOICE_LABELS: dict[str, Mapping[str, Promise]] = {
    "rejection_grounds": REJECTION_GROUND_LABELS,
    "termination_grounds": TERMINATION_GROUND_LABELS,
    "decision": {"filed": _("立案"), "not_filed": _("不予立案")},
    "kind": dict(Kind.choices),
}

LONG_TEXT = {"reason", "note", "terms", "answer", "instructions"}
SELECT_LIMIT = 200  # more units than this: a code field with suggestions instead of a select


def handler_units(case: Case) -> QuerySet[Department]:
    """Who may handle a case the county accepts: the county itself, or one of its stations."""
    county = case.department
    return Department.objects.filter(pk=county.pk) | Department.objects.filter(
        parent=county, level=Level.STATION, is_active=True
    )


def dispatch_targets(case: Case) -> QuerySet[Department]:
    """County-level units below the department that holds the case."""
    return Department.objects.filter(
        path__startswith=case.department.path, is_county_level=True, is_active=True
    ).exclude(pk=case.department_id)


def transfer_suggestions(case: Case) -> QuerySet[Department]:
    """County-level units of the same province: where most transfers go."""
    codes = case.department.ancestor_codes()
    province_path = "/".join(codes[:2]) + "/" if len(codes) > 1 else case.department.path
    return Department.objects.filter(
        path__startswith=province_path, is_county_level=True, is_active=True
    ).exclude(pk=case.department_id)


def designate_targets(case: Case) -> QuerySet[Department]:
    """County-level units below the common superior of an open authority dispute."""
    superior = Department.objects.filter(code=dispute_superior_code(case) or "").first()
    if superior is None:
        return Department.objects.none()
    return Department.objects.filter(
        path__startswith=superior.path, is_county_level=True, is_active=True
    ).exclude(pk=superior.pk)


def _disputing_first(case: Case, units: QuerySet[Department]) -> list[tuple[str, str]]:
    """The two disputing departments first (usually one of them is designated), then the rest."""
    first = [case.department_id, case.disputed_with_id]
    listed = _unit_choices(units)
    return sorted(listed, key=lambda choice: first.index(choice[0]) if choice[0] in first else 2)


def _unit_choices(units: QuerySet[Department]) -> list[tuple[str, str]]:
    return [(unit.code, f"{unit.name}（{unit.code}）") for unit in units.order_by("path")]


def _handler_unit_choices(case: Case) -> list[tuple[str, str]]:
    """The county first, as handling it itself; then its stations (分流)."""
    own = _("%(unit)s（本局自办）") % {"unit": case.department.name}
    stations = handler_units(case).exclude(pk=case.department_id)
    return [(case.department_id, own), *_unit_choices(stations)]


class ActionForm(forms.Form):
    """One workflow action on one case; `action` and the case `version` travel hidden."""

    action = forms.CharField(widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, case: Case, spec: ActionSpec, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"id_{spec.name}_%s")
        kwargs.setdefault("initial", {"action": spec.name, "version": case.version})
        super().__init__(*args, **kwargs)
        self.case = case
        self.spec = spec
        self.suggestions: list[tuple[str, str]] = []
        for param in spec.params:
            self.fields[param.name] = self._field(param)

    @property
    def label(self) -> str:
        return str(self.spec.label)

    @property
    def help(self) -> str:
        return str(ACTION_HELP.get(self.spec.name, ""))

    @property
    def param_names(self) -> list[str]:
        return [param.name for param in self.spec.params]

    def _field(self, param: Param) -> forms.Field:
        field = self._typed_field(param)
        field.required = param.required
        field.label = ACTION_PARAM_LABELS.get(
            (self.spec.name, param.name), PARAM_LABELS.get(param.name, param.name)
        )
        field.help_text = PARAM_HELP.get(param.name, "")
        return field

    def _typed_field(self, param: Param) -> forms.Field:
        if param.type == ParamType.DEPARTMENT:
            return self._department_field(param)
        if param.type == ParamType.CHOICE:
            labels = CHOICE_LABELS.get(param.choices_from or param.name, {})
            values = param.choices_for(self.case.rules)
            return forms.ChoiceField(
                choices=[("", _("请选择")), *[(v, labels.get(v, v)) for v in values]]
            )
        if param.type == ParamType.DECIMAL:
            return forms.DecimalField(min_value=Decimal(0), max_digits=14, decimal_places=2)
        if param.type == ParamType.DATE:
            return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
        if param.name in LONG_TEXT:
            return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
        return forms.CharField(max_length=200)

    def _department_field(self, param: Param) -> forms.Field:
        if param.check == "handler_unit":
            return forms.ChoiceField(choices=_handler_unit_choices(self.case))
        if param.check == "dispatch_target":
            units = dispatch_targets(self.case)
            if units.count() <= SELECT_LIMIT:
                return forms.ChoiceField(choices=[("", _("请选择")), *_unit_choices(units)])
        elif param.check == "designate_target":
            units = designate_targets(self.case)
            if units.count() <= SELECT_LIMIT:
                choices = _disputing_first(self.case, units)
                return forms.ChoiceField(choices=[("", _("请选择")), *choices])
            disputing = [self.case.department_id, self.case.disputed_with_id]
            self.suggestions = _disputing_first(self.case, units.filter(pk__in=disputing))
        else:
            self.suggestions = _unit_choices(transfer_suggestions(self.case))
        attrs = {"inputmode": "numeric", "autocomplete": "off", "pattern": "[0-9]{6,9}"}
        if self.suggestions:
            attrs["list"] = f"units_{self.spec.name}"
        return forms.CharField(max_length=12, widget=forms.TextInput(attrs=attrs))

    def params(self) -> dict[str, Any]:
        """The cleaned parameters as `perform` takes them (what the JSON API would send)."""
        values: dict[str, Any] = {}
        for name in self.param_names:
            value = self.cleaned_data.get(name)
            if value in (None, ""):
                continue
            if isinstance(value, dt.date):
                value = value.isoformat()
            elif isinstance(value, Decimal):
                value = str(value)
            values[name] = value
        return values

    def refreshed(self, case: Case) -> ActionForm:
        """The same input against the case as it is now (after someone else changed it)."""
        data = QueryDict(mutable=True)
        data.update(self.data)
        data["version"] = str(case.version)
        return ActionForm(case, self.spec, data=data)

    def apply_errors(self, fields: Mapping[str, list[str]], message: str) -> None:
        """Put the service's field errors on the fields shown; the rest on the form itself."""
        for name, messages in fields.items():
            for text in messages:
                self.add_error(name if name in self.param_names else None, text)
        if not fields:
            self.add_error(None, message)


def action_form(
    case: Case, action: str, data: Mapping[str, Any] | None = None
) -> ActionForm | None:
    """The form for `action` on `case`, or None when the action has no staff form."""
    spec = action_spec(case.kind, action)
    if spec is None or spec.actor != ActorKind.STAFF:
        return None
    return ActionForm(case, spec, data=data)
