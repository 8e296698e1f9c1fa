"""Platforms that gather talent (a talent market, a startup park, an expert or postdoctoral workstation),
and the needs units post in the catalogue of talent needs (人才需求目录), matched, then filled or expired."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from services.talent.domain.events import (
    NeedExpired,
    NeedFilled,
    NeedPosted,
    PlatformOpened,
    TalentAttached,
    TalentDetached,
)
from services.talent.domain.kinds import PlatformKind, Team
from shared.domain import Aggregate, applies, command


@dataclass
class PlatformState:
    opened: bool = False
    talents: list[str] = field(default_factory=list)


class TalentPlatform(Aggregate):
    category = "platform"
    State = PlatformState
    state: PlatformState

    @command
    def open(self, kind: PlatformKind, name: str, unit: str, now: dt.datetime) -> None:
        self.require(not self.state.opened, "platform.once", f"platform {self.id} exists already")
        self.record(PlatformOpened(kind.value, name, unit, now))

    @command
    def attach(self, person_id: str, now: dt.datetime) -> None:
        self.require(self.state.opened, "platform.exists", f"platform {self.id} does not exist")
        self.require(person_id not in self.state.talents, "platform.attached", f"{person_id} is attached already")
        self.record(TalentAttached(person_id, now))

    @command
    def detach(self, person_id: str, now: dt.datetime) -> None:
        self.require(person_id in self.state.talents, "platform.attached", f"{person_id} is not attached")
        self.record(TalentDetached(person_id, now))

    @applies(PlatformOpened)
    def _opened(self, e: PlatformOpened) -> None:
        self.state.opened = True

    @applies(TalentAttached)
    def _attached(self, e: TalentAttached) -> None:
        self.state.talents.append(e.person_id)

    @applies(TalentDetached)
    def _detached(self, e: TalentDetached) -> None:
        self.state.talents.remove(e.person_id)


@dataclass
class NeedState:
    status: str = ""  # open, filled, expired
    expires_at: dt.datetime | None = None


class TalentNeed(Aggregate):
    category = "need"
    State = NeedState
    state: NeedState

    def _open(self) -> None:
        self.require(self.state.status != "", "need.exists", f"need {self.id} does not exist")
        self.require(self.state.status == "open", "need.open", f"need {self.id} is {self.state.status}")

    @command
    def post(
        self, unit: str, team: Team, specialty: str, description: str, expires_at: dt.datetime, now: dt.datetime
    ) -> None:
        self.require(self.state.status == "", "need.once", f"need {self.id} exists already")
        self.require(expires_at > now, "need.expires", "a need expires after it is posted")
        self.record(NeedPosted(unit, team.value, specialty, description, now, expires_at))

    @command
    def fill(self, person_id: str, now: dt.datetime) -> None:
        self._open()
        assert self.state.expires_at is not None
        self.require(now < self.state.expires_at, "need.expired", f"need {self.id} has expired")
        self.record(NeedFilled(person_id, now))

    @command
    def expire(self, now: dt.datetime) -> None:
        self._open()
        assert self.state.expires_at is not None
        self.require(now >= self.state.expires_at, "need.not_yet", f"need {self.id} runs until its expiry")
        self.record(NeedExpired(now))

    @applies(NeedPosted)
    def _posted(self, e: NeedPosted) -> None:
        self.state.status, self.state.expires_at = "open", e.expires_at

    @applies(NeedFilled)
    def _filled(self, e: NeedFilled) -> None:
        self.state.status = "filled"

    @applies(NeedExpired)
    def _expired(self, e: NeedExpired) -> None:
        self.state.status = "expired"
