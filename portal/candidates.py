"""The departments offered at the submission's "选择受理部门" step.

The suggestions come from `departments.jurisdiction`: the competent county departments for the
addresses the consumer gave, each with the basis the rules name; an address that points at
several counties offers each of them. A consumer may also look up an address of their choosing,
or pick any county by code (by province → city → county selects where JavaScript runs).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from cases.rules import rules_for
from departments.jurisdiction import (
    AddressError,
    AmbiguousAddress,
    resolve_address,
    suggest_jurisdictions,
)
from departments.models import Department
from portal.forms import YES


@dataclass(frozen=True)
class Candidate:
    department: Department
    basis: str
    legal_basis: str
    address: str

    @property
    def code(self) -> str:
        return self.department.code

    @property
    def place(self) -> str:
        return place_name(self.department)


@dataclass(frozen=True)
class Problem:
    basis: str
    address: str
    message: str


@dataclass
class Offer:
    candidates: list[Candidate]
    problems: list[Problem]

    def add(self, candidate: Candidate) -> None:
        if all(c.code != candidate.code for c in self.candidates):
            self.candidates.append(candidate)


def place_name(department: Department) -> str:
    """The division names from the province down, e.g. "浙江省 杭州市 西湖区"."""
    names = []
    unit: Department | None = department
    while unit is not None and unit.parent_id is not None:
        names.append(unit.name)
        unit = unit.parent
    return " ".join(reversed(names)) or department.name


def offer_for(kind: str, data: dict[str, str]) -> Offer:
    """Suggestions from the step-1 addresses (complaints, reports) and the looked-up address."""
    offer = Offer([], [])
    if kind != "consultation" and data.get("respondent_address"):
        _add_suggestions(offer, kind, data)
    lookup = data.get("lookup_address", "").strip()
    if lookup:
        _add_lookup(offer, lookup)
    return offer


def _add_suggestions(offer: Offer, kind: str, data: dict[str, str]) -> None:
    online = data.get("online") == YES
    suggestions = suggest_jurisdictions(
        rules=rules_for(timezone.now()),
        kind=kind,
        respondent_address=data.get("respondent_address", ""),
        platform_address=data.get("platform_address", "") if online else None,
        seller_on_platform=online,
    )
    for suggestion in suggestions:
        basis = str(suggestion.basis.label)
        if suggestion.department is not None:
            offer.add(
                Candidate(suggestion.department, basis, suggestion.legal_basis, suggestion.address)
            )
        elif suggestion.problem is not None:
            _add_problem(offer, basis, suggestion.legal_basis, suggestion.problem)


def _add_lookup(offer: Offer, address: str) -> None:
    basis = _("您输入的地址")
    try:
        resolution = resolve_address(address)
    except AddressError as problem:
        _add_problem(offer, basis, "", problem)
        return
    offer.add(Candidate(resolution.county, basis, "", address))


def _add_problem(offer: Offer, basis: str, legal_basis: str, problem: AddressError) -> None:
    offer.problems.append(Problem(basis, problem.address, problem.message))
    if isinstance(problem, AmbiguousAddress):
        for department in problem.candidates:
            offer.add(Candidate(department, basis, legal_basis, problem.address))
