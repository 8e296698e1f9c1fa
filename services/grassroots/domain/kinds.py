"""What a party organisation is, and the periods the party's rules set.

Sources, as we read them (the article numbers are to be confirmed against the
texts by someone who holds them; third-party copies disagree on some):
《中国共产党支部工作条例(试行)》(2018): a branch where there are at least 3
full members (第四条); with 7 or more it sets up a branch committee, with
fewer only a secretary, for a term of 3 years (第六章); 5 years for village and
community branches (《中国共产党农村基层组织工作条例》(2019) and the 2018
decision to align village and community terms).
《中国共产党发展党员工作细则》(2014): the applicant at least 18 (第五条), a talk
within a month of the application (第七条), activists reviewed every half year,
at least a year as an activist before becoming a development target
(第十三条), two full-member introducers (第十四条), the short course of at least
3 days or 24 hours (第十六条), the higher committee's approval within three
months of the branch meeting, extendable to six (第二十五条), a year's probation
counted from the branch meeting, extendable once by six months to a year.
"""

from __future__ import annotations

from enum import StrEnum


class OrganisationKind(StrEnum):
    COUNTY_COMMITTEE = "county_committee"
    TOWNSHIP_COMMITTEE = "township_committee"
    GENERAL_BRANCH = "general_branch"
    BRANCH = "branch"


class OrganisationType(StrEnum):
    VILLAGE = "village"
    COMMUNITY = "community"
    NON_PUBLIC_ENTERPRISE = "non_public_enterprise"
    ASSOCIATION = "association"  # 支部+协会: a branch paired with an industry association
    ORGAN = "organ"  # a party committee or an organ's branch


class Stage(StrEnum):
    APPLICANT = "applicant"
    ACTIVIST = "activist"
    DEVELOPMENT_TARGET = "development_target"
    PROBATIONARY = "probationary_member"
    FULL = "full_member"
    CANCELLED = "cancelled"


class Recommendation(StrEnum):
    MEMBERS = "member_recommendation"  # 党员推荐
    MASS_ORGANISATION = "mass_organisation"  # 群团组织推优 (the youth league, the women's federation)


class NominationSource(StrEnum):
    MEMBERS = "members"  # 党员推荐
    PUBLIC = "public"  # 群众推荐
    ORGANISATION = "organisation"  # 组织推荐


#: Who may be founded under whom: a committee under a committee, a branch or general branch under either.
PARENTS = {
    OrganisationKind.COUNTY_COMMITTEE: (),
    OrganisationKind.TOWNSHIP_COMMITTEE: (OrganisationKind.COUNTY_COMMITTEE,),
    OrganisationKind.GENERAL_BRANCH: (OrganisationKind.COUNTY_COMMITTEE, OrganisationKind.TOWNSHIP_COMMITTEE),
    OrganisationKind.BRANCH: (
        OrganisationKind.COUNTY_COMMITTEE,
        OrganisationKind.TOWNSHIP_COMMITTEE,
        OrganisationKind.GENERAL_BRANCH,
    ),
}

MIN_BRANCH_MEMBERS = 3
COMMITTEE_FROM_MEMBERS = 7
TERM_YEARS = {OrganisationType.VILLAGE: 5, OrganisationType.COMMUNITY: 5}
DEFAULT_TERM_YEARS = 3

MIN_AGE = 18
TALK_WITHIN_MONTHS = 1
ACTIVIST_YEARS = 1
ACTIVIST_REVIEW_MONTHS = 6
INTRODUCERS = 2
APPROVAL_MONTHS = 3
APPROVAL_MONTHS_EXTENDED = 6
PROBATION_YEARS = 1
EXTENSION_MONTHS = (6, 12)
