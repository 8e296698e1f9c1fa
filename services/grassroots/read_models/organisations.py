"""The organisation tree with member counts and leadership, and the dual-cultivation pairings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from services.grassroots.domain import events as ev
from shared.application import Reader
from shared.eventstore.records import RecordedEvent
from shared.projections import Projection, on
from shared.projections.projection import jsonb


class Organisations(Projection):
    name = "organisations"
    tables = ("organisations", "pairings")

    @on(ev.OrganisationFounded)
    def _founded(self, cur: Any, e: ev.OrganisationFounded, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO organisations (organisation_id, kind, org_type, name, parent_id, full_members) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            [record.aggregate_id, e.kind, e.org_type, e.name, e.parent_id, len(e.founding_members)],
        )

    @on(ev.OrganisationMoved)
    def _moved(self, cur: Any, e: ev.OrganisationMoved, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE organisations SET parent_id = %s WHERE organisation_id = %s", [e.parent_id, record.aggregate_id]
        )

    @on(ev.MemberJoined)
    def _joined(self, cur: Any, e: ev.MemberJoined, record: RecordedEvent) -> None:
        column = "full_members" if e.full else "probationary"
        cur.execute(
            f"UPDATE organisations SET {column} = {column} + 1 WHERE organisation_id = %s", [record.aggregate_id]
        )

    @on(ev.MemberMadeFull)
    def _made_full(self, cur: Any, e: ev.MemberMadeFull, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE organisations SET full_members = full_members + 1, probationary = probationary - 1 "
            "WHERE organisation_id = %s",
            [record.aggregate_id],
        )

    @on(ev.MemberLeft)
    def _left(self, cur: Any, e: ev.MemberLeft, record: RecordedEvent) -> None:
        column = "full_members" if e.full else "probationary"
        cur.execute(
            f"UPDATE organisations SET {column} = {column} - 1 WHERE organisation_id = %s", [record.aggregate_id]
        )

    @on(ev.LeadershipInstalled)
    def _installed(self, cur: Any, e: ev.LeadershipInstalled, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE organisations SET secretary_id = %s, term_ends = %s WHERE organisation_id = %s",
            [e.secretary_id, e.term_ends, record.aggregate_id],
        )

    @on(ev.DualCultivationPaired)
    def _paired(self, cur: Any, e: ev.DualCultivationPaired, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO pairings (pairing_id, branch_id, member_id, entrepreneur_id, entrepreneur_name, enterprise, "
            "goals, paired_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            [
                record.aggregate_id,
                e.branch_id,
                e.member_id,
                e.entrepreneur_id,
                e.entrepreneur_name,
                e.enterprise,
                jsonb(e.goals),
                e.paired_at,
            ],
        )

    @on(ev.PairingGoalMet)
    def _goal(self, cur: Any, e: ev.PairingGoalMet, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE pairings SET met = met || %s::jsonb WHERE pairing_id = %s", [jsonb([e.goal]), record.aggregate_id]
        )


@dataclass(frozen=True)
class OrganisationNode:
    """An organisation in the tree, with its members and those of everything under it."""

    organisation_id: str
    kind: str
    org_type: str
    name: str
    parent_id: str | None
    full_members: int
    probationary_members: int
    secretary_id: str | None
    term_ends: dt.datetime | None
    members_below: int  # full and probationary members of this organisation and every one under it
    children: list[str]


def tree(reader: Reader) -> list[OrganisationNode]:
    """Every organisation, parents before their children, each with the member count of its subtree."""
    rows = reader.query(
        "SELECT organisation_id, kind, org_type, name, parent_id, full_members, probationary AS probationary_members, "
        "secretary_id, term_ends FROM organisations ORDER BY name, organisation_id"
    )
    children: dict[str | None, list[dict[str, Any]]] = {}
    for row in rows:
        children.setdefault(row["parent_id"], []).append(row)

    def below(row: dict[str, Any], seen: frozenset[str]) -> int:
        own = int(row["full_members"]) + int(row["probationary_members"])
        if row["organisation_id"] in seen:
            return own
        inner = seen | {row["organisation_id"]}
        return own + sum(below(child, inner) for child in children.get(row["organisation_id"], []))

    nodes: list[OrganisationNode] = []

    def walk(row: dict[str, Any], seen: frozenset[str]) -> None:
        kids = children.get(row["organisation_id"], [])
        nodes.append(
            OrganisationNode(**row, members_below=below(row, seen), children=[k["organisation_id"] for k in kids])
        )
        for kid in kids:
            if kid["organisation_id"] not in seen:
                walk(kid, seen | {row["organisation_id"]})

    for root in children.get(None, []):
        walk(root, frozenset())
    return nodes


@dataclass(frozen=True)
class PairingRow:
    pairing_id: str
    branch_id: str
    member_id: str
    entrepreneur_id: str
    entrepreneur_name: str
    enterprise: str
    goals: list[str]
    met: list[str]
    paired_at: dt.datetime


def pairings(reader: Reader, branch_id: str | None) -> list[PairingRow]:
    rows = reader.query(
        "SELECT pairing_id, branch_id, member_id, entrepreneur_id, entrepreneur_name, enterprise, "
        "ARRAY(SELECT jsonb_array_elements_text(goals)) AS goals, ARRAY(SELECT jsonb_array_elements_text(met)) AS met, "
        "paired_at FROM pairings WHERE %(branch)s::text IS NULL OR branch_id = %(branch)s ORDER BY paired_at",
        {"branch": branch_id},
    )
    return [PairingRow(**row) for row in rows]
