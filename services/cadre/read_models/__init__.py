"""The cadre service's read models: each a projection with the queries that read it.

- ``selections``: processes by phase, and each candidate's journey through one;
- ``notices``: assessment previews and pre-appointment notices, with their windows;
- ``cadres``: cadres by unit, with posts, roles, commendations, grades, credit hours;
- ``appraisals``: appraisal results by year.
"""

from services.cadre.read_models.appraisals import AppraisalResults
from services.cadre.read_models.cadres import Cadres
from services.cadre.read_models.notices import Notices
from services.cadre.read_models.selections import Selections

ALL = (Selections, Notices, Cadres, AppraisalResults)
