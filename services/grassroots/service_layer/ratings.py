"""The yearly branch rating: once a branch and year; a weak branch is published for supervision."""

from __future__ import annotations

from services.grassroots import messages as m
from services.grassroots.domain.rating import BranchRating, rating_id
from services.grassroots.service_layer.organisations import branch
from services.grassroots.views import RatingView, rating_view
from shared.application import UnitOfWork


def rate(request: m.RateBranch, uow: UnitOfWork) -> RatingView:
    now = uow.clock.now()
    with uow.transaction():
        name = branch(uow, request.branch_id).state.name
        rating = uow.load_or_new(BranchRating, rating_id(request.year, request.branch_id))
        rating.rate(
            request.branch_id,
            name,
            request.year,
            request.criteria_score,
            request.survey_satisfaction,
            list(request.problems),
            now,
        )
        uow.save(rating, request)
    return rating_view(rating)
