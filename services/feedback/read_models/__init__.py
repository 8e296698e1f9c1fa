"""The feedback service's read models: each with the queries that read it."""

from services.feedback.read_models.monthly import MonthlyFigures
from services.feedback.read_models.statistics import Statistics
from services.feedback.read_models.submissions import Submissions

ALL = (Submissions, Statistics, MonthlyFigures)
