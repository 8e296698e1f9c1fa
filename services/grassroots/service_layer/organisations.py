"""The tree of party organisations: founded under a parent, moved, never into a cycle."""

from __future__ import annotations

import uuid

from services.grassroots import messages as m
from services.grassroots.domain.kinds import OrganisationKind
from services.grassroots.domain.organisation import PartyOrganisation
from services.grassroots.views import OrganisationView, organisation_view
from shared.application import UnitOfWork
from shared.errors import RuleViolation

#: Deeper than any real tree (county, township, general branch, branch): a longer line is a broken one.
MAX_DEPTH = 32


def found_organisation(request: m.FoundOrganisation, uow: UnitOfWork) -> OrganisationView:
    now = uow.clock.now()
    with uow.transaction():
        parent = uow.load(PartyOrganisation, request.parent_id) if request.parent_id is not None else None
        organisation, _ = uow.create(
            PartyOrganisation,
            request.organisation_id or uuid.uuid4().hex,
            lambda o: o.found(
                request.kind, request.org_type, request.name, parent, list(request.founding_members), now
            ),
            request,
        )
    return organisation_view(organisation)


def ancestors(uow: UnitOfWork, organisation: PartyOrganisation) -> list[str]:
    """The organisation's line of parents, nearest first."""
    line: list[str] = []
    parent_id = organisation.state.parent_id
    while parent_id is not None:
        if parent_id in line or len(line) >= MAX_DEPTH:
            raise RuleViolation("organisation.no_cycle", f"the line above {organisation.id} loops", {})
        line.append(parent_id)
        parent_id = uow.load(PartyOrganisation, parent_id).state.parent_id
    return line


def move_organisation(request: m.MoveOrganisation, uow: UnitOfWork) -> OrganisationView:
    now = uow.clock.now()
    with uow.transaction():
        parent = uow.load(PartyOrganisation, request.parent_id)
        line = ancestors(uow, parent)
        organisation, _ = uow.update(
            PartyOrganisation, request.organisation_id, lambda o: o.move(parent, line, now), request
        )
    return organisation_view(organisation)


def branch(uow: UnitOfWork, branch_id: str) -> PartyOrganisation:
    """A branch (or general branch): where members are developed and elections held."""
    organisation = uow.load(PartyOrganisation, branch_id)
    organisation.require(
        organisation.state.kind in (OrganisationKind.BRANCH, OrganisationKind.GENERAL_BRANCH),
        "organisation.branch",
        f"{branch_id} is a {organisation.state.kind}, not a branch",
    )
    return organisation
