"""The words of talent work (党管人才): the five talent teams, evaluators, programs, platforms.

The five teams (五支人才队伍): party and government, enterprise management,
professional and technical, highly skilled, and rural practical talent.
Evaluation is by integrity, ability and performance (品德、能力、业绩), from
peers, the market, the public and the organisation. Programs cultivate,
introduce and keep talent (retention by career, care and pay: 事业留人、感情留人、
待遇留人), place cadres in practice posts (挂职) and support entrepreneurs.
"""

from __future__ import annotations

from enum import StrEnum


class Team(StrEnum):
    PARTY_GOVERNMENT = "party_government"
    ENTERPRISE_MANAGEMENT = "enterprise_management"
    PROFESSIONAL_TECHNICAL = "professional_technical"
    HIGHLY_SKILLED = "highly_skilled"
    RURAL_PRACTICAL = "rural_practical"


class Source(StrEnum):
    LOCAL = "local"
    INTRODUCED = "introduced"


class DepartureReason(StrEnum):
    CAREER = "career"  # 事业: no room to grow
    CARE = "care"  # 感情: not at home here
    PAY = "pay"  # 待遇
    FAMILY = "family"
    RETIREMENT = "retirement"
    OTHER = "other"


class EvaluatorKind(StrEnum):
    PEERS = "peers"
    MARKET = "market"
    PUBLIC = "public"
    ORGANISATION = "organisation"


class ProgramKind(StrEnum):
    CULTIVATION = "cultivation"
    INTRODUCTION = "introduction"
    RETENTION = "retention"
    PLATFORM = "platform"
    PRACTICE_PLACEMENT = "practice_placement"  # 挂职
    ENTREPRENEURSHIP = "entrepreneurship"


class RetentionWay(StrEnum):
    CAREER = "career"  # 事业留人
    CARE = "care"  # 感情留人
    PAY = "pay"  # 待遇留人


class PlatformKind(StrEnum):
    TALENT_MARKET = "talent_market"
    STARTUP_PARK = "startup_park"
    EXPERT_WORKSTATION = "expert_workstation"
    POSTDOCTORAL_WORKSTATION = "postdoctoral_workstation"
