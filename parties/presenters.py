"""A complaint's co-complainants and agent as each caller may see them.

Only the complainant who filed and the staff over the case see them (o121 Art. 37's care for
the people who come forward applies to them as to the filer): the business complained about
sees neither them nor the power of attorney among the case's files. ID numbers are always
masked; phones are shown in full only to the unit holding or handling the case, which calls
them (`cases.access.handles_case`), as the filer's own phone is.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist

from accounts.identity import mask_phone, masked_id_number
from accounts.models import User
from cases.access import Viewer, handles_case, may_see_parties
from cases.models import Attachment, Case, Kind
from parties.models import Agent, CoComplainant, FilerRepresentative


def agent_of(case: Case) -> Agent | None:
    """The case's agent (loaded with the case by `select_related("agent")`), or None."""
    try:
        return case.agent  # type: ignore[attr-defined,no-any-return]
    except ObjectDoesNotExist:
        return None


def filer_is_representative(case: Case) -> bool:
    """Whether the filer is a representative (the row loaded with the case by
    `select_related("filer_representative")`)."""
    try:
        row: FilerRepresentative = case.filer_representative  # type: ignore[attr-defined]
    except ObjectDoesNotExist:
        return False
    return row is not None


def hidden_files(user: User, case: Case, viewer: Viewer) -> set[Any]:
    """The ids of the case's files `user` may not see: the power of attorney, for anyone who
    may not see the parties."""
    agent = agent_of(case)
    if agent is None or may_see_parties(user, case, viewer):
        return set()
    return {agent.power_of_attorney_id}


def parties_payload(user: User, case: Case, viewer: Viewer) -> dict[str, Any]:
    """`co_complainants` (a list; empty when the complaint has none), `agent` (or None) and
    `filer_representative` (a bool) for those who may see them; all None for everyone else and
    on reports and consultations."""
    if case.kind != Kind.COMPLAINT or not may_see_parties(user, case, viewer):
        return {"co_complainants": None, "agent": None, "filer_representative": None}
    full_phone = viewer == Viewer.STAFF and handles_case(user, case)
    people = case.co_complainants.all()  # type: ignore[attr-defined]
    agent = agent_of(case)
    return {
        "co_complainants": [_person(p, full_phone=full_phone) for p in people],
        "agent": _agent(agent, full_phone=full_phone) if agent is not None else None,
        "filer_representative": filer_is_representative(case),
    }


def _person(person: CoComplainant, *, full_phone: bool) -> dict[str, Any]:
    return {
        "name": person.real_name,
        "phone": person.phone if full_phone else mask_phone(person.phone),
        "id_number": masked_id_number(person.id_number_encrypted) or None,
        "consent": person.consented,
        "representative": person.is_representative,
    }


def _agent(agent: Agent, *, full_phone: bool) -> dict[str, Any]:
    from cases.presenters import attachment_payload

    document: Attachment = agent.power_of_attorney
    return {
        "name": agent.real_name,
        "phone": agent.phone if full_phone else mask_phone(agent.phone),
        "id_number": masked_id_number(agent.id_number_encrypted) or None,
        "power_of_attorney": attachment_payload(document),
    }
