"""Writing a complaint's co-complainants and agent: once, with the case they belong to."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from accounts.identity import encrypt_id_number
from cases.models import Attachment, Case
from parties.intake import PartiesIn
from parties.models import Agent, CoComplainant, FilerRepresentative


@dataclass(frozen=True)
class Recorded:
    """The rows `record_parties` wrote, so the reply to the submission needs no read-back."""

    co_complainants: list[CoComplainant]
    agent: Agent | None
    filer_representative: FilerRepresentative | None


def record_parties(*, case: Case, parties: PartiesIn, claimed: list[Attachment]) -> Recorded:
    """Insert the parties of the new `case`. Call inside the transaction that files it (intake),
    after it claimed the uploads (`claimed`, among them the power of attorney), so that a
    refusal anywhere leaves neither the case nor its parties behind."""
    now = timezone.now()
    filer = None
    if parties.filer_representative and parties.co_complainants:
        filer = FilerRepresentative.objects.create(case=case, created_at=now)
    people = CoComplainant.objects.bulk_create(
        [
            CoComplainant(
                case=case,
                position=position,
                real_name=person.real_name,
                phone=person.phone,
                id_number_encrypted=_encrypted(person.id_number),
                consented=True,
                is_representative=person.representative,
                created_at=now,
            )
            for position, person in enumerate(parties.co_complainants, start=1)
        ]
    )
    agent = None
    if parties.agent is not None:
        document = next(a for a in claimed if str(a.pk) == parties.agent.power_of_attorney)
        agent = Agent.objects.create(
            case=case,
            real_name=parties.agent.real_name,
            phone=parties.agent.phone,
            id_number_encrypted=_encrypted(parties.agent.id_number),
            power_of_attorney=document,
            created_at=now,
        )
    return Recorded(co_complainants=people, agent=agent, filer_representative=filer)


def _encrypted(id_number: str) -> str:
    return encrypt_id_number(id_number) if id_number else ""
