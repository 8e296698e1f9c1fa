"""Platforms that gather talent, and the catalogue of talent needs: posted, matched, filled, or expired.

The deadline check (on a timer, and on demand) expires the needs past their date.
"""

from __future__ import annotations

import uuid

from services.talent import messages as m
from services.talent.domain.platform import TalentNeed, TalentPlatform
from services.talent.domain.talent import TalentRecord
from services.talent.read_models import needs as need_queries
from services.talent.views import ExpiryCount, NeedView, PlatformView, need_view, platform_view
from shared.application import Sweep, UnitOfWork

EXPIRED_NEEDS = Sweep(
    name="talent needs",
    aggregate=TalentNeed,
    due=need_queries.past_expiry,
    command=TalentNeed.expire,
    reason="a talent need past its expiry",
)


def open_platform(request: m.OpenPlatform, uow: UnitOfWork) -> PlatformView:
    now = uow.clock.now()
    platform, _ = uow.create(
        TalentPlatform,
        request.platform_id,
        lambda p: p.open(request.kind, request.name, request.unit, now),
        request,
    )
    return platform_view(platform)


def attach(request: m.PlatformTalent, uow: UnitOfWork) -> PlatformView:
    now = uow.clock.now()
    with uow.transaction():
        uow.load(TalentRecord, request.person_id)  # someone with a talent record
        platform, _ = uow.update(
            TalentPlatform, request.platform_id, lambda p: p.attach(request.person_id, now), request
        )
    return platform_view(platform)


def detach(request: m.PlatformTalent, uow: UnitOfWork) -> PlatformView:
    now = uow.clock.now()
    platform, _ = uow.update(TalentPlatform, request.platform_id, lambda p: p.detach(request.person_id, now), request)
    return platform_view(platform)


def post_need(request: m.PostNeed, uow: UnitOfWork) -> NeedView:
    now = uow.clock.now()
    need, _ = uow.create(
        TalentNeed,
        request.need_id or uuid.uuid4().hex,
        lambda n: n.post(request.unit, request.team, request.specialty, request.description, request.expires_at, now),
        request,
    )
    return need_view(need)


def fill_need(request: m.FillNeed, uow: UnitOfWork) -> NeedView:
    now = uow.clock.now()
    with uow.transaction():
        uow.load(TalentRecord, request.person_id)
        need, _ = uow.update(TalentNeed, request.need_id, lambda n: n.fill(request.person_id, now), request)
    return need_view(need)


def expire_needs(uow: UnitOfWork, sweep: Sweep[TalentNeed] = EXPIRED_NEEDS) -> ExpiryCount:
    return ExpiryCount(sweep.run(uow).changed)
