"""Cadre records: registered, their roles and commendations kept, their training credits noted.

Appointments and appraisal grades reach a record from the selection and the
appraisal use cases; training's credit totals arrive as events.
"""

from __future__ import annotations

import logging

from services.cadre import messages as m
from services.cadre.domain.cadre_record import CadreRecord
from services.cadre.inbound import CreditTotal
from services.cadre.views import CadreView, cadre_view
from shared.application import UnitOfWork
from shared.eventstore.records import RecordedEvent

log = logging.getLogger(__name__)


def register_cadre(request: m.RegisterCadre, uow: UnitOfWork) -> CadreView:
    cadre, _ = uow.create(
        CadreRecord,
        request.cadre_id,
        lambda c: c.register(
            request.name, request.unit, request.post_category, request.leadership_team, request.head_of_unit
        ),
        request,
    )
    return cadre_view(cadre)


def change_roles(request: m.ChangeRoles, uow: UnitOfWork) -> CadreView:
    cadre, _ = uow.update(
        CadreRecord, request.cadre_id, lambda c: c.change_roles(request.leadership_team, request.head_of_unit), request
    )
    return cadre_view(cadre)


def commend_cadre(request: m.CommendCadre, uow: UnitOfWork) -> CadreView:
    cadre, _ = uow.update(
        CadreRecord, request.cadre_id, lambda c: c.commend(request.title, request.year, request.citation), request
    )
    return cadre_view(cadre)


def note_credit_total(total: CreditTotal, record: RecordedEvent, uow: UnitOfWork) -> None:
    """Keep each cadre's yearly training credit hours, which selections check."""
    with uow.transaction():
        cadre = uow.load_or_new(CadreRecord, total.cadre_id)
        if cadre.version == 0:
            log.info("training credits for %s, who is not a cadre on record", total.cadre_id)
            return
        cadre.note_training_credits(total.year, total.total_hours)
        uow.save(cadre, uow.system("training credit total updated"))
