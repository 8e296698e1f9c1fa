"""What a training program is: its kind, how it is taught, and who provides it.

The kinds are those of 《干部教育培训工作条例》 and of party-member development:
induction (任职培训), initial (初任培训), thematic (专题培训), in-service (在职培训),
party spirit (党性教育), the activists' course (入党积极分子培训), the short course
for development targets (发展对象短期集中培训) and the department's own staff
(学习型机关). Each is taught in a classroom (阵地), at a training base (基地) or
online, by a party school, a cadre college, a university or an accredited
organisation (the market-oriented providers the article opens training to).
"""

from __future__ import annotations

from enum import StrEnum


class ProgramKind(StrEnum):
    INDUCTION = "induction"
    INITIAL = "initial"
    THEMATIC = "thematic"
    IN_SERVICE = "in_service"
    PARTY_SPIRIT = "party_spirit"
    ACTIVIST_COURSE = "activist_course"
    DEVELOPMENT_TARGET_COURSE = "development_target_course"
    DEPARTMENT_STAFF = "department_staff"


class Mode(StrEnum):
    CLASSROOM = "classroom"
    TRAINING_BASE = "training_base"
    ONLINE = "online"


class Provider(StrEnum):
    PARTY_SCHOOL = "party_school"
    CADRE_COLLEGE = "cadre_college"
    UNIVERSITY = "university"
    ACCREDITED_ORGANISATION = "accredited_organisation"


class Phase(StrEnum):
    PLANNED = "planned"
    PUBLISHED = "published"  # open for self-selection and enrolment
    RUNNING = "running"
    CLOSED = "closed"


class EnrolmentSource(StrEnum):
    SELF_SELECTED = "self_selected"  # 自主选学
    ASSIGNED = "assigned"  # 调训
    ON_APPOINTMENT = "on_appointment"  # induction, on appointment to a leading post
    ON_DESIGNATION = "on_designation"  # the short course, on designation as a development target


#: The kinds a learner is placed in by the service itself, and why.
AUTOMATIC = {
    EnrolmentSource.ON_APPOINTMENT: ProgramKind.INDUCTION,
    EnrolmentSource.ON_DESIGNATION: ProgramKind.DEVELOPMENT_TARGET_COURSE,
}
#: Which automatic source places a learner awaiting a program of a kind.
PLACED_BY = {kind.value: source for source, kind in AUTOMATIC.items()}
