"""Branch elections: called, nominated, qualified, on notice, voted by secret ballot, approved.

The approval installs the leadership in the organisation, in the same transaction.
"""

from __future__ import annotations

import uuid

from services.grassroots import messages as m
from services.grassroots.domain.election import BranchElection
from services.grassroots.domain.organisation import PartyOrganisation
from services.grassroots.service_layer.organisations import branch
from services.grassroots.views import ElectionView, election_view
from shared.application import UnitOfWork


def call_election(request: m.CallElection, uow: UnitOfWork) -> ElectionView:
    """换届: those entitled are the organisation's full members now; 7 or more elect a committee."""
    now = uow.clock.now()
    with uow.transaction():
        organisation = branch(uow, request.organisation_id)
        election, _ = uow.create(
            BranchElection,
            request.election_id or uuid.uuid4().hex[:16],
            lambda e: e.call(
                organisation.id,
                list(organisation.state.full_members),
                request.seats,
                organisation.elects_committee,
                now,
            ),
            request,
        )
    return election_view(election)


def nominate(request: m.Nominate, uow: UnitOfWork) -> ElectionView:
    now = uow.clock.now()
    election, _ = uow.update(
        BranchElection, request.election_id, lambda e: e.nominate(request.candidate_id, request.source, now), request
    )
    return election_view(election)


def qualify(request: m.QualifyCandidates, uow: UnitOfWork) -> ElectionView:
    now = uow.clock.now()
    election, _ = uow.update(
        BranchElection, request.election_id, lambda e: e.qualify(list(request.candidate_ids), now), request
    )
    return election_view(election)


def open_candidate_notice(request: m.OpenCandidateNotice, uow: UnitOfWork) -> ElectionView:
    now, calendar = uow.clock.now(), uow.calendar
    with uow.transaction():
        election = uow.load(BranchElection, request.election_id)
        organisation = uow.load(PartyOrganisation, election.state.organisation_id)
        name = organisation.state.name
        election, _ = uow.update(
            BranchElection,
            request.election_id,
            lambda e: e.open_notice(
                uuid.uuid4().hex, f"Candidates for {name}", name, request.working_days, calendar, now
            ),
            request,
        )
    return election_view(election)


def convene(request: m.ConveneElection, uow: UnitOfWork) -> ElectionView:
    now = uow.clock.now()
    election, _ = uow.update(
        BranchElection, request.election_id, lambda e: e.convene(list(request.present), now), request
    )
    return election_view(election)


def take_part(request: m.TakePart, uow: UnitOfWork) -> ElectionView:
    election, _ = uow.update(BranchElection, request.election_id, lambda e: e.take_part(request.voter_id), request)
    return election_view(election)


def count(request: m.CountElection, uow: UnitOfWork) -> ElectionView:
    now = uow.clock.now()
    ballots = [list(b) for b in request.ballots]
    election, _ = uow.update(BranchElection, request.election_id, lambda e: e.count(ballots, now), request)
    return election_view(election)


def approve(request: m.ApproveElection, uow: UnitOfWork) -> ElectionView:
    """The higher committee approves: the result takes effect in the organisation."""
    now = uow.clock.now()
    with uow.transaction():
        election, _ = uow.update(
            BranchElection, request.election_id, lambda e: e.approve(request.secretary_id, now), request
        )
        elected = list(election.state.elected)
        uow.update(
            PartyOrganisation,
            election.state.organisation_id,
            lambda o: o.install(election.id, request.secretary_id, elected, now),
            request,
        )
    return election_view(election)
