"""Who may call what: one table, deny by default.

A call is named ``service.method``. Each role grants patterns of calls
(shell-style: ``cadre.*``); ``@query`` in place of the method grants every
read-only method of the service (one whose request changes nothing), but never
the operational ones (dead letters), which only the operator holds. A call
that no role of the caller grants is refused (``Forbidden``), at the gateway
and again at the service.

Issuers are limited too: the gateway asserts the roles of the people it
authenticated, a service asserts only its own service identity, and the
operator's tools only the operator's and auditor's roles. A service that
believed any signer about any role would be as open as one that believed
the caller.
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase

PUBLIC = "public"
OPERATOR = "operator"
AUDITOR = "auditor"
LEARNER = "learner"

#: Methods every service has that only the operator may call, even where ``@query`` or ``service.*`` matches.
OPERATIONAL = frozenset({"dead_letters", "replay_dead_letter", "load_calendar"})

_CADRE_SELECTION = [
    "cadre.create_selection",
    "cadre.open_registration",
    "cadre.register_candidate",
    "cadre.extend_registration",
    "cadre.cancel_selection",
    "cadre.open_recommendation",
    "cadre.cast_recommendation",
    "cadre.count_recommendation",
    "cadre.make_statement",
    "cadre.draw_shortlist",
    "cadre.publish_assessment_preview",
    "cadre.start_assessment",
    "cadre.assess_candidate",
    "cadre.open_public_notice",
    "cadre.close_selection",
]
_CADRE_COMMITTEE = [
    "cadre.convene_committee",
    "cadre.cast_committee_vote",
    "cadre.count_committee_vote",
    "cadre.conclude_committee_vote",
]
_CADRE_RECORDS = [
    "cadre.register_cadre",
    "cadre.change_roles",
    "cadre.commend_cadre",
    "cadre.open_appraisal_cycle",
    "cadre.enrol_for_appraisal",
    "cadre.submit_self_review",
    "cadre.submit_review_scores",
    "cadre.close_appraisal_cycle",
]
_ANSWERING = [
    "feedback.reply",
    "feedback.resolve",
    "feedback.reject",
    "feedback.transfer",
    "feedback.merge",
    "feedback.reopen",
    "feedback.@query",
]

#: role -> the calls it grants.
ROLES: dict[str, tuple[str, ...]] = {
    PUBLIC: (
        "feedback.submit",
        "feedback.follow_up",
        "feedback.my_case",
        "feedback.close",
        "feedback.open_notices",
        "cadre.open_notices",
        "feedback.notice_archive",
        "feedback.open_statistics",
        "grassroots.published_elections",
        "grassroots.public_affairs",
        "cadre.published_results",
        "*.audit_heads",
        "*.audit_proof",
        "*.audit_consistency",
    ),
    "department_staff": ("*.@query", *_CADRE_RECORDS, *_ANSWERING, "feedback.check_deadlines"),
    "selection_officer": ("cadre.@query", *_CADRE_SELECTION),
    "committee_secretary": ("cadre.@query", *_CADRE_COMMITTEE),
    "supervision_officer": ("supervision.*", *_ANSWERING),
    "training_officer": ("training.*",),
    # a cadre or party member choosing courses (自主选学) and reading their own record, as themselves
    LEARNER: ("training.open_programs", "training.select_course", "training.my_record"),
    "grassroots_officer": ("grassroots.*",),
    "talent_officer": ("talent.*",),
    AUDITOR: ("*.@query",),
    OPERATOR: (
        "*.dead_letters",
        "*.replay_dead_letter",
        "*.load_calendar",
        "*.calendar_years",
        "feedback.check_deadlines",
        "supervision.check_overdue",
        "training.check_deadlines",
        "grassroots.check_deadlines",
        "talent.check_deadlines",
    ),
}

_SERVICE_ROLE = "service:"


def grant(role: str, *patterns: str) -> None:
    """Add a role for an application outside the platform's table (a test app, a benchmark).

    Declared beside the service it is for, so every process that loads that
    service knows it. A role of the table is never widened this way.
    """
    if role in ROLES and ROLES[role] != patterns:
        raise ValueError(f"role {role!r} is already granted {ROLES[role]}")
    if role.startswith(_SERVICE_ROLE):
        raise ValueError("service identities are not granted by role")
    ROLES[role] = patterns


def service_role(service: str) -> str:
    """The role of a service calling as itself."""
    return f"{_SERVICE_ROLE}{service}"


def may_assert(issuer: str, roles: Iterable[str], services: Iterable[str]) -> bool:
    """Whether ``issuer`` may vouch for a caller holding ``roles``.

    The gateway vouches for people: any role but a service's (a role this
    process does not know grants nothing).
    """
    wanted = set(roles)
    if issuer == "gateway":
        return not any(role.startswith(_SERVICE_ROLE) for role in wanted)
    if issuer == OPERATOR:
        return wanted <= {OPERATOR, AUDITOR}
    if issuer in set(services):
        return wanted <= {service_role(issuer)}
    return False


def allows(roles: Iterable[str], service: str, method: str, *, query: bool) -> bool:
    """Whether any of ``roles`` grants ``service.method`` (``query``: the method changes nothing)."""
    call = f"{service}.{method}"
    for role in roles:
        for pattern in ROLES.get(role, ()):
            target, _, granted = pattern.rpartition(".")
            if granted == "@query":
                if query and method not in OPERATIONAL and fnmatchcase(service, target):
                    return True
            elif fnmatchcase(call, pattern) and (method not in OPERATIONAL or role == OPERATOR):
                return True
    return False
