"""The steps of the consumer's submission form, and the translation between the form fields and
the intake payload (API.md body names) in both directions: values out, errors back.

Steps are topics, one per screen on a phone: whom against, which department, what happened,
confirm. Each step is a form bound to the draft; only the last one calls `cases.intake`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from parties.intake import row_of_error
from portal import forms

RESPONDENT, DEPARTMENT, DETAILS, QUESTION, PARTIES, CONFIRM = (
    "respondent",
    "department",
    "details",
    "question",
    "parties",
    "confirm",
)
ALL_ERRORS = "__all__"


@dataclass(frozen=True)
class Step:
    slug: str
    title: Promise
    form_class: type[forms.StepForm]

    def form(self, kind: str, **kwargs: Any) -> forms.StepForm:
        return self.form_class(kind=kind, **kwargs)

    @property
    def field_names(self) -> list[str]:
        return list(self.form_class.base_fields)

    @property
    def error_names(self) -> list[str]:
        """The names intake errors of this step are kept under: its fields, and for the
        parties step the whole lists (`co_complainants`, `agent`), shown above the form."""
        extra = list(LIST_PATHS) if self.slug == PARTIES else []
        return [*self.field_names, *extra]

    @property
    def takes_files(self) -> bool:
        return "evidence" in self.form_class.base_fields


STEPS: dict[str, tuple[Step, ...]] = {
    "complaint": (
        Step(RESPONDENT, _("被投诉经营者"), forms.RespondentForm),
        Step(DEPARTMENT, _("选择受理部门"), forms.DepartmentForm),
        Step(DETAILS, _("诉求内容"), forms.DetailsForm),
        Step(PARTIES, _("共同投诉人与代理人"), forms.PartiesForm),
        Step(CONFIRM, _("确认提交"), forms.ConfirmForm),
    ),
    "report": (
        Step(RESPONDENT, _("被举报经营者"), forms.RespondentForm),
        Step(DEPARTMENT, _("选择受理部门"), forms.DepartmentForm),
        Step(DETAILS, _("举报内容"), forms.DetailsForm),
        Step(CONFIRM, _("确认提交"), forms.ConfirmForm),
    ),
    "consultation": (
        Step(DEPARTMENT, _("选择受理部门"), forms.DepartmentForm),
        Step(QUESTION, _("咨询内容"), forms.QuestionForm),
        Step(CONFIRM, _("确认提交"), forms.ConfirmForm),
    ),
}

KIND_TITLES = {"complaint": _("我要投诉"), "report": _("我要举报"), "consultation": _("我要咨询")}

# Form field -> payload path (dotted, as IntakeError names them).
FIELD_PATHS = {
    "respondent_name": "respondent.name",
    "respondent_uscc": "respondent.uscc",
    "respondent_address": "respondent.address",
    "platform_name": "respondent.platform.name",
    "platform_address": "respondent.platform.address",
    "evidence": "attachments",
    "agent_name": "agent.real_name",
    "agent_phone": "agent.phone",
    "agent_id_number": "agent.id_number",
    "power_of_attorney": "agent.power_of_attorney",
}
# Errors about a whole list: kept under their own name, shown above the parties step's form.
LIST_PATHS = ("co_complainants", "agent")
POWER_OF_ATTORNEY = "power_of_attorney_id"  # the draft's key for the uploaded document
# Payload paths with no field of their own, shown at the field that stands for them.
PATH_FALLBACKS = {
    "respondent": "respondent_name",
    "respondent.platform": "platform_name",
}


def step_named(kind: str, slug: str | None) -> Step | None:
    steps = STEPS[kind]
    if slug is None:
        return steps[0]
    return next((step for step in steps if step.slug == slug), None)


def neighbours(kind: str, step: Step) -> tuple[Step | None, Step | None]:
    steps = STEPS[kind]
    index = steps.index(step)
    before = steps[index - 1] if index > 0 else None
    after = steps[index + 1] if index + 1 < len(steps) else None
    return before, after


def build_payload(
    kind: str,
    cleaned: dict[str, Any],
    attachment_ids: list[str],
    *,
    power_of_attorney: str = "",
) -> dict[str, Any]:
    """The intake body for the cleaned values of every step (`power_of_attorney`: the id of the
    upload the parties step kept)."""
    payload: dict[str, Any] = {"department": cleaned["department"], "attachments": attachment_ids}
    if cleaned.get("contact_address"):
        payload["contact_address"] = cleaned["contact_address"]
    if kind == "consultation":
        payload["question"] = cleaned["question"]
        return payload
    payload["respondent"] = _respondent(cleaned)
    payload["facts"] = cleaned["facts"]
    for name in ("category", "demand"):
        if cleaned.get(name):
            payload[name] = cleaned[name]
    if cleaned.get("amount") is not None:
        payload["amount"] = f"{cleaned['amount']:.2f}"
    if cleaned.get("occurred_on") is not None:
        payload["occurred_on"] = cleaned["occurred_on"].isoformat()
    if kind == "report":
        payload["notify_me"] = bool(cleaned.get("notify_me"))
    if kind == "complaint":
        payload.update(_parties(cleaned, power_of_attorney))
    return payload


def _parties(cleaned: dict[str, Any], power_of_attorney: str) -> dict[str, Any]:
    parties: dict[str, Any] = {}
    people = cleaned.get("co_complainants") or []
    if people:
        parties["co_complainants"] = people
    if cleaned.get("filer_representative"):
        parties["filer_representative"] = True
    if cleaned.get("agent_name") or power_of_attorney:
        agent = {
            "real_name": cleaned.get("agent_name", ""),
            "phone": cleaned.get("agent_phone", ""),
            "power_of_attorney": power_of_attorney,
        }
        if cleaned.get("agent_id_number"):
            agent["id_number"] = cleaned["agent_id_number"]
        parties["agent"] = agent
    return parties


def _respondent(cleaned: dict[str, Any]) -> dict[str, Any]:
    respondent: dict[str, Any] = {
        "name": cleaned["respondent_name"],
        "address": cleaned["respondent_address"],
    }
    if cleaned.get("respondent_uscc"):
        respondent["uscc"] = cleaned["respondent_uscc"].upper()
    if cleaned.get("online") == forms.YES:
        respondent["platform"] = {
            "name": cleaned["platform_name"],
            "address": cleaned["platform_address"],
        }
    return respondent


def field_for_path(kind: str, path: str) -> str:
    """The form field an intake error about `path` belongs to (ALL_ERRORS when none)."""
    by_path = {payload_path: name for name, payload_path in FIELD_PATHS.items()}
    name = by_path.get(path) or PATH_FALLBACKS.get(path) or _co_field(path) or path
    known = {field for step in STEPS[kind] for field in step.error_names}
    return name if name in known else ALL_ERRORS


def _co_field(path: str) -> str | None:
    """`co_complainants.2.phone` -> `co_2_phone`; a problem with the whole row -> its name."""
    found = row_of_error(path)
    return None if found is None else f"co_{found[0]}_{found[1]}"


def errors_by_field(kind: str, fields: dict[str, list[str]]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for path, messages in fields.items():
        errors.setdefault(field_for_path(kind, path), []).extend(str(m) for m in messages)
    return errors


def first_step_with_errors(kind: str, errors: dict[str, list[str]]) -> Step:
    for step in STEPS[kind]:
        if any(name in errors for name in step.error_names):
            return step
    return STEPS[kind][-1]
