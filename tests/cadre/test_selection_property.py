"""Any sequence of commands, valid or not: the state rebuilt from the stored
events equals the live state, and a refused command stores nothing."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from services.cadre.domain.events import Criterion, Post, registry
from services.cadre.domain.selection import Eligibility, Kind, Phase, Round, SelectionProcess, Variant
from shared.db.database import Database
from shared.db.migrations import migrate, platform_migrations
from shared.domain import Repository
from shared.domain.calendar import OrganisationCalendar
from shared.errors import RuleViolation
from shared.eventstore.records import Metadata
from shared.eventstore.snapshots import SnapshotStore
from shared.eventstore.store import EventStore

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
CADRES = ["c1", "c2", "c3", "c4"]
MEMBERS = ["m1", "m2", "m3"]
CALENDAR = OrganisationCalendar.shipped()
CRITERIA = [Criterion("integrity", Decimal(2)), Criterion("ability", Decimal(1))]

cadre = st.sampled_from(CADRES)
post = st.sampled_from(["p0", "p1", "p9"])
scores = st.fixed_dictionaries({"integrity": st.integers(0, 100), "ability": st.integers(0, 100)}).map(
    lambda d: {k: Decimal(v) for k, v in d.items()}
)
steps = st.one_of(
    st.tuples(st.just("open_registration")),
    st.tuples(
        st.just("register_candidate"),
        cadre,
        st.sampled_from([None, "competent", "incompetent"]),
        st.sampled_from(["0", "40"]),
    ),
    st.tuples(st.just("open_recommendation")),
    st.tuples(st.just("cast_recommendation"), st.sampled_from(["v1", "v2", "v3"]), st.sampled_from(list(Round))),
    st.tuples(
        st.just("count_recommendation"),
        st.lists(st.lists(cadre, min_size=0, max_size=2), min_size=1, max_size=4),
        st.sampled_from(list(Round)),
    ),
    st.tuples(st.just("make_statement"), cadre),
    st.tuples(st.just("draw_shortlist"), st.lists(cadre, min_size=1, max_size=4, unique=True)),
    st.tuples(st.just("publish_assessment_preview"), st.integers(0, 3)),
    st.tuples(st.just("start_assessment")),
    st.tuples(st.just("assess_candidate"), cadre, scores),
    st.tuples(st.just("convene_committee"), st.lists(st.sampled_from(MEMBERS), min_size=1, max_size=3, unique=True)),
    st.tuples(st.just("cast_committee_vote"), st.sampled_from(MEMBERS), post),
    st.tuples(st.just("count_committee_vote"), post, st.lists(st.lists(cadre, max_size=3), min_size=1, max_size=4)),
    st.tuples(st.just("conclude_committee_vote")),
    st.tuples(st.just("open_public_notice"), st.integers(0, 7)),
    st.tuples(st.just("note_supervision_outcome"), cadre, st.booleans()),
    st.tuples(st.just("close")),
)


def run(process: SelectionProcess, step: tuple[Any, ...], now: dt.datetime) -> None:
    name, *args = step
    if name in ("open_registration", "open_recommendation", "close"):
        getattr(process, name)(now)
    elif name == "register_candidate":
        process.register_candidate(args[0], Eligibility(args[0], args[1], Decimal(args[2])))
    elif name == "cast_recommendation":
        process.cast_recommendation(args[0], args[1])
    elif name == "count_recommendation":
        process.count_recommendation(args[0], args[1])
    elif name == "make_statement":
        process.make_statement(args[0], "statement")
    elif name == "draw_shortlist":
        process.draw_shortlist(args[0])
    elif name == "publish_assessment_preview":
        process.publish_assessment_preview("preview", now, args[0], calendar=CALENDAR)
    elif name == "start_assessment":
        process.start_assessment(CRITERIA, now)
    elif name == "assess_candidate":
        process.assess_candidate(args[0], "competent", args[1], "assessor")
    elif name == "convene_committee":
        process.convene_committee(MEMBERS, args[0])
    elif name == "cast_committee_vote":
        process.cast_committee_vote(*args)
    elif name == "count_committee_vote":
        process.count_committee_vote(*args)
    elif name == "conclude_committee_vote":
        process.conclude_committee_vote()
    elif name == "open_public_notice":
        process.open_public_notice("notice", now, args[0], calendar=CALENDAR)
    elif name == "note_supervision_outcome":
        process.note_supervision_outcome(args[0], f"case-{secrets.token_hex(2)}", args[1], now)
    else:  # pragma: no cover
        raise AssertionError(name)


@pytest.fixture(scope="module")
def repository(test_env: Any, database: Database) -> Iterator[Repository[SelectionProcess]]:
    schema = f"p_{secrets.token_hex(4)}"
    migrate(database, schema, platform_migrations())
    yield Repository(SelectionProcess, EventStore(database, schema), registry, SnapshotStore(database, schema))
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(f'DROP SCHEMA "{schema}" CASCADE')


def guided(data: st.DataObject, process: SelectionProcess) -> tuple[Any, ...]:
    """A command the current phase allows, with arguments that are often (not always) valid."""
    state = process.state
    registered = sorted(state.candidates) or CADRES
    shortlisted = sorted(c for c, v in state.candidates.items() if v.shortlisted) or CADRES
    posts = [p.post_id for p in state.posts]
    choices: dict[Phase, list[st.SearchStrategy[tuple[Any, ...]]]] = {
        Phase.ANNOUNCED: [st.just(("open_registration",))],
        Phase.REGISTRATION: [
            st.tuples(
                st.just("register_candidate"),
                cadre,
                st.sampled_from([None, "competent", "competent", "incompetent"]),
                st.sampled_from(["0", "40", "40"]),
            ),
            st.tuples(st.just("register_candidate"), cadre, st.just("competent"), st.just("40")),
            *([st.just(("open_recommendation",))] if len(state.candidates) > len(state.posts) else []),
        ],
        Phase.RECOMMENDATION: [
            st.tuples(
                st.just("cast_recommendation"), st.sampled_from(["v1", "v2", "v3"]), st.sampled_from(list(Round))
            ),
            st.tuples(
                st.just("count_recommendation"),
                st.lists(st.lists(st.sampled_from(registered), min_size=1, max_size=1), min_size=1, max_size=2),
                st.sampled_from(list(Round)),
            ),
            st.tuples(st.just("make_statement"), st.sampled_from(registered)),
            st.tuples(
                st.just("draw_shortlist"), st.lists(st.sampled_from(registered), min_size=1, max_size=4, unique=True)
            ),
            st.just(("draw_shortlist", registered)),
        ],
        Phase.SHORTLISTED: [st.tuples(st.just("publish_assessment_preview"), st.integers(1, 3))],
        Phase.PREVIEW: [st.just(("start_assessment",))],
        Phase.ASSESSMENT: [
            st.tuples(st.just("assess_candidate"), st.sampled_from(shortlisted), scores),
            st.tuples(
                st.just("convene_committee"), st.lists(st.sampled_from(MEMBERS), min_size=2, max_size=3, unique=True)
            ),
        ],
        Phase.COMMITTEE: [
            st.tuples(st.just("cast_committee_vote"), st.sampled_from(MEMBERS), st.sampled_from(posts)),
            st.tuples(
                st.just("count_committee_vote"),
                st.sampled_from(posts),
                st.lists(st.lists(st.sampled_from(shortlisted), max_size=2, unique=True), min_size=1, max_size=3),
            ),
            st.just(("conclude_committee_vote",)),
        ],
        Phase.NOMINATED: [st.tuples(st.just("open_public_notice"), st.integers(4, 7)), st.just(("close",))],
        Phase.PUBLIC_NOTICE: [
            st.tuples(st.just("note_supervision_outcome"), st.sampled_from(shortlisted), st.booleans()),
            st.just(("close",)),
        ],
    }
    options = choices.get(state.phase)
    if not options:
        return data.draw(steps)
    return data.draw(st.one_of(options))


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(variant=st.sampled_from(list(Variant)), posts=st.integers(1, 2), length=st.integers(1, 50), data=st.data())
def test_rebuilt_state_equals_live_state_and_refused_commands_store_nothing(
    repository: Repository[SelectionProcess], variant: Variant, posts: int, length: int, data: st.DataObject
) -> None:
    process = SelectionProcess(uuid.uuid4().hex)
    now = START
    process.announce(
        "t", "u", Kind.PUBLIC_SELECTION, variant, [Post(f"p{i}", "post") for i in range(posts)], Decimal(1), None, now
    )
    repository.save(process, Metadata(actor="prop"))
    stored = process.version
    for _ in range(length):
        step = guided(data, process) if data.draw(st.integers(0, 9)) < 8 else data.draw(steps)
        now += dt.timedelta(hours=data.draw(st.sampled_from([0, 1, 24, 100, 200])))
        try:
            run(process, step, now)
        except RuleViolation:
            assert (process.pending_events, process.version) == ([], stored)
            assert repository.save(process, Metadata(actor="prop")) == []
            continue
        recorded = repository.save(process, Metadata(actor="prop"))
        assert [r.version for r in recorded] == list(range(stored + 1, process.version + 1))
        stored = process.version

    assert [r.version for r in repository.log.read_stream(process.stream_id)][-1:] == ([stored] if stored else [])

    event(f"reached {process.state.phase}")
    assert repository.load(process.id, use_snapshot=False) == process
    assert repository.load(process.id) == process
