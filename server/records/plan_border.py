"""A plan's destinations across the border (広域避難, docs/access.md "Municipalities").

Every plan write through the records layer — the JSON API, the field app's sync mutations and
the workbench form — comes here from the plan resource's `before_write`; the plan CSV import
applies the same domain rule (`plan_rules.border_problem`) to its in-memory facts. With one
municipality in the installation nothing is checked (a single city's behaviour is unchanged).
A destination already stored is not re-refused (the plan stays editable when an agreement ends).
"""

from __future__ import annotations

from typing import Optional

from sqlmodel import Session

from ..auth.principal import installed_municipalities
from ..domain.workbench.plan_rules import border_problem
from ..errors import ApiError
from ..models import EvacuationPlan, Person, Shelter

DESTINATION_FIELDS = ("destination_shelter_id", "alternate_shelter_id")


def check_plan_border(session: Session, row: EvacuationPlan, previous: Optional[dict]) -> None:
    """422 with a field error on each newly named shelter of another municipality that does not
    accept the person's municipality."""
    chosen = [(f, getattr(row, f)) for f in DESTINATION_FIELDS
              if getattr(row, f) is not None and (previous is None or previous.get(f) != getattr(row, f))]
    if not chosen or len(installed_municipalities(session)) <= 1:
        return
    person = session.get(Person, row.person_id)
    if person is None:  # the reference check reports an unknown person
        return
    errors = []
    for field, shelter_id in chosen:
        shelter = session.get(Shelter, shelter_id)
        found = shelter and border_problem(person.municipality_code, shelter.municipality_code,
                                           shelter.accepts_from or (), field=field)
        if found:
            errors.append({"field": field, "code": found.code, "message": f"{found.ja} ({found.en})"})
    if errors:
        raise ApiError(422, "validation failed", errors)
