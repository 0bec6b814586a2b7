"""Cases in the admin: read-only records, and every state change through `perform`.

No field of a case is edited here and no case is added or deleted: the admin shows a case, its
timeline and its clocks, and offers the same workflow actions as the workbench and the API, each
taken by `cases.services.perform` as the signed-in user (so the workflow table decides, and the
event log records it). A superuser sees every case; other staff see `cases_visible_to` them, and
an action they may not take is refused by `perform` with its message.

The consumer's identity stays out: a case holds no ID number, and the party's phone is masked
unless the viewer's own unit holds or handles the case (as in `cases.presenters`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.identity import mask_phone
from accounts.models import User
from cases.access import cases_visible_to, handles_case
from cases.models import Case, CaseEvent, Deadline
from cases.services import InvalidAction, StaleVersion, WorkflowError, perform
from cases.workflow import ActionSpec, action_spec, allowed_actions

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# Names `perform` takes itself: a parameter by one of these names cannot be passed through.
RESERVED_PARAMS = frozenset({"case", "action", "by", "version"})
MAX_LISTED_REFUSALS = 10


def _acting_user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


class PerformForm(forms.Form):
    """Shape only: an action name, its parameters as a JSON object and the version the page
    showed. Whether the action is allowed, and what the parameters must be, is `perform`'s."""

    action = forms.CharField(label=gettext_lazy("操作"), max_length=32)
    params = forms.CharField(
        label=gettext_lazy("参数（JSON 对象）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text=gettext_lazy('例如 {"reason": "不属于本局管辖"}；没有参数时留空。'),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args: Any, actions: Sequence[tuple[str, str]] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["action"].widget = forms.Select(choices=actions)

    def clean_params(self) -> dict[str, Any]:
        raw = self.cleaned_data["params"].strip()
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                gettext_lazy("参数不是有效的 JSON：%(error)s"), params={"error": exc.msg}
            ) from exc
        except (ValueError, RecursionError) as exc:  # too deep, or an integer too long
            raise ValidationError(
                gettext_lazy("参数不是有效的 JSON：%(error)s"), params={"error": str(exc)[:100]}
            ) from exc
        if not isinstance(value, dict):
            raise ValidationError(gettext_lazy("参数应为 JSON 对象（{...}）。"))
        reserved = sorted(RESERVED_PARAMS & value.keys())
        if reserved:
            raise ValidationError(
                gettext_lazy("参数不能使用这些名称：%(names)s。"),
                params={"names": "、".join(reserved)},
            )
        return value


def refusal_message(exc: WorkflowError) -> str:
    """A refused action in one line: the message, each field's problem, the choices, and what
    the user may do instead."""
    parts = [exc.message]
    parts += [f"{name}：{'；'.join(problems)}" for name, problems in exc.fields.items()]
    if exc.choices:
        parts.append(_("可选值：%(choices)s。") % {"choices": "、".join(exc.choices)})
    if isinstance(exc, InvalidAction | StaleVersion):
        allowed = "、".join(exc.allowed_actions) or _("无")
        parts.append(_("当前可执行的操作：%(actions)s。") % {"actions": allowed})
    return " ".join(parts)


def _param_hint(spec: ActionSpec, case: Case) -> list[str]:
    hints = []
    for param in spec.params:
        hint = f"{param.name}（{param.type}{'' if param.required else _('，可选')}）"
        choices = param.choices_for(case.rules)
        if choices:
            hint += "：" + " / ".join(choices)
        hints.append(hint)
    return hints


class ReadOnlyInline(admin.TabularInline):
    """Part of the case record: shown to whoever may view the case, never edited."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("cases.view_case")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CaseEventInline(ReadOnlyInline):
    model = CaseEvent
    verbose_name = gettext_lazy("办理记录")
    verbose_name_plural = gettext_lazy("办理记录（时间线）")
    fields = ("seq", "at", "action", "actor_name", "department", "visibility", "note", "data")
    readonly_fields = fields
    ordering = ("seq",)

    @admin.display(description=gettext_lazy("操作人"))
    def actor_name(self, obj: CaseEvent) -> str:
        return obj.actor.display_name if obj.actor is not None else ""

    def get_queryset(self, request: HttpRequest) -> QuerySet[CaseEvent]:
        return super().get_queryset(request).select_related("actor", "department")


class DeadlineInline(ReadOnlyInline):
    model = Deadline
    verbose_name = gettext_lazy("期限")
    verbose_name_plural = gettext_lazy("期限")
    fields = (
        "kind",
        "department",
        "started_on",
        "due",
        "paused_since",
        "extended_days",
        "met_at",
        "cancelled",
        "due_soon",
        "overdue",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Deadline]:
        return super().get_queryset(request).select_related("department")


# The case page, group by group; every field read-only (`party_phone_shown` masks the phone).
FIELD_GROUPS: tuple[tuple[StrOrPromise | None, tuple[str, ...]], ...] = (
    (
        None,
        (
            "number",
            "kind",
            "status",
            "outcome",
            "rules",
            "channel",
            "received_at",
            "is_major",
            "version",
        ),
    ),
    (
        gettext_lazy("办理"),
        (
            "department",
            "handler_unit",
            "disputed_with",
            "dispute_refused",
            "paused_since",
            "closed_at",
            "linked_case",
        ),
    ),
    (
        gettext_lazy("投诉人/举报人"),
        ("party_name", "party_phone_shown", "party_address", "notify_me"),
    ),
    (
        gettext_lazy("被投诉/举报方"),
        (
            "respondent_name",
            "respondent_uscc",
            "respondent_address",
            "platform_name",
            "platform_address",
        ),
    ),
    (
        gettext_lazy("诉求与答复"),
        ("category", "amount", "occurred_on", "facts", "demand", "answer"),
    ),
    (
        gettext_lazy("结果与评价"),
        ("amount_recovered", "satisfaction", "resolved", "rating_comment", "rated_at"),
    ),
)


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "kind",
        "status",
        "outcome",
        "department",
        "handler_unit",
        "received_at",
        "is_major",
    )
    list_filter = ("kind", "status", "rules", "channel")
    search_fields = ("number", "respondent_name")
    list_select_related = ("department", "handler_unit")
    show_full_result_count = False  # one COUNT per page, not two, on a national table
    fieldsets = [(title, {"fields": names}) for title, names in FIELD_GROUPS]
    readonly_fields = tuple(name for _title, names in FIELD_GROUPS for name in names)
    inlines = [DeadlineInline, CaseEventInline]
    actions = ["mark_major"]
    change_form_template = "cases/admin/change_form.html"

    @admin.display(description=gettext_lazy("电话"))
    def party_phone_shown(self, obj: Case) -> str:
        # Decided per request in get_object (the admin instance is shared between requests).
        return getattr(obj, "phone_for_viewer", "") or mask_phone(obj.party_phone)

    # --- Scope and permissions ------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[Case]:
        user = _acting_user(request)
        cases = Case.objects.all() if user.is_superuser else cases_visible_to(user)
        return cases.select_related("department", "handler_unit")

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Case | None:
        case = super().get_object(request, object_id, from_field)
        if case is not None and handles_case(_acting_user(request), case):
            case.phone_for_viewer = case.party_phone  # type: ignore[attr-defined]
        return case

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # --- Actions through perform ----------------------------------------------------------------

    @admin.action(description=gettext_lazy("标记重大疑难"))
    def mark_major(self, request: HttpRequest, queryset: QuerySet[Case]) -> None:
        user = _acting_user(request)
        marked: list[str] = []
        refused: list[str] = []
        for case in queryset.order_by("pk"):
            try:
                perform(case, "mark_major", by=user)
            except WorkflowError as exc:
                refused.append(f"{case.number}：{exc.message}")
            else:
                marked.append(case.number)
        if marked:
            self.message_user(
                request,
                _("已标记重大疑难：%(numbers)s。") % {"numbers": "、".join(marked)},
                messages.SUCCESS,
            )
        if refused:
            more = len(refused) - MAX_LISTED_REFUSALS
            listed = "；".join(refused[:MAX_LISTED_REFUSALS])
            suffix = _("（另有 %(n)d 件）") % {"n": more} if more > 0 else ""
            self.message_user(
                request, _("未能标记：%(cases)s") % {"cases": listed} + suffix, messages.ERROR
            )

    def get_urls(self) -> list[URLPattern]:
        perform_url = path(
            "<path:object_id>/perform/",
            self.admin_site.admin_view(self.perform_view),
            name="cases_case_perform",
        )
        return [perform_url, *super().get_urls()]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        case = self.get_object(request, unquote(object_id))
        context = dict(extra_context or {})
        if case is not None:
            context.update(self._perform_context(request, case))
        return super().change_view(request, object_id, form_url, context)

    def _perform_context(self, request: HttpRequest, case: Case) -> dict[str, Any]:
        user = _acting_user(request)
        specs = [
            spec
            for name in allowed_actions(case, user)
            if (spec := action_spec(case.kind, name)) is not None
        ]
        choices = [(spec.name, f"{spec.label}（{spec.name}）") for spec in specs]
        return {
            "perform_form": PerformForm(initial={"version": case.version}, actions=choices),
            "perform_hints": [(spec.label, spec.name, _param_hint(spec, case)) for spec in specs],
            "perform_url": reverse("admin:cases_case_perform", args=[case.pk]),
        }

    def perform_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Take one workflow action from the case page (POST only), then back to the case with
        what happened in a message."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        case = self.get_object(request, unquote(object_id))
        if case is None:
            raise Http404(object_id)
        if not self.has_view_permission(request, case):
            raise PermissionDenied
        form = PerformForm(request.POST)
        if form.is_valid():
            self._take_action(request, case, form.cleaned_data)
        else:
            problems = (str(problem) for errors in form.errors.values() for problem in errors)
            messages.error(request, " ".join(problems))
        return HttpResponseRedirect(reverse("admin:cases_case_change", args=[case.pk]))

    def _take_action(self, request: HttpRequest, case: Case, data: dict[str, Any]) -> None:
        action = data["action"]
        try:
            perform(
                case, action, by=_acting_user(request), version=data["version"], **data["params"]
            )
        except WorkflowError as exc:
            messages.error(request, refusal_message(exc))
            return
        spec = action_spec(case.kind, action)
        label = spec.label if spec is not None else action
        messages.success(request, _("已执行：%(action)s。") % {"action": label})
