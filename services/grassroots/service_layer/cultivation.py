"""Dual cultivation (双向培养): members paired with entrepreneurs, and the goals they meet."""

from __future__ import annotations

import uuid

from services.grassroots import messages as m
from services.grassroots.domain.pairing import Pairing
from services.grassroots.service_layer.organisations import branch
from services.grassroots.views import PairingView, pairing_view
from shared.application import UnitOfWork


def pair(request: m.PairCultivation, uow: UnitOfWork) -> PairingView:
    now = uow.clock.now()
    with uow.transaction():
        members = set(branch(uow, request.branch_id).state.full_members)
        pairing, _ = uow.create(
            Pairing,
            request.pairing_id or uuid.uuid4().hex,
            lambda p: p.pair(
                request.branch_id,
                request.member_id,
                request.entrepreneur_id,
                request.entrepreneur_name,
                request.enterprise,
                list(request.goals),
                members,
                now,
            ),
            request,
        )
    return pairing_view(pairing)


def goal_met(request: m.PairingGoal, uow: UnitOfWork) -> PairingView:
    now = uow.clock.now()
    pairing, _ = uow.update(Pairing, request.pairing_id, lambda p: p.goal_met(request.goal, now), request)
    return pairing_view(pairing)
