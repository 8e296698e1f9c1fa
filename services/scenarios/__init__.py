"""The demo's stories (``make demo``), end to end, through the gateway; one module a story.

Three selections run side by side against the platform (recommendation and
committee votes by secret ballot, notices on the organisation's calendar):

* withheld: the pre-appointment notice opens → a member of the public objects
  (feedback, through the public endpoint, no account) → supervision opens a
  case from the routed complaint, holds the joint meeting, finds it
  substantiated → the notice period passes → cadre withholds the appointment;
* clean: the notice opens → nobody objects → the nominee is appointed;
* postponed: an objection opens a case that is still under investigation when
  the notice ends → cadre postpones the appointment → the case is found
  unsubstantiated → cadre appoints, recording the notice and the case.

The department and the supervision office act over HTTP with bearer tokens
minted by the local token issuer (the ``tokens`` key in ``SECURITY_KEYS_DIR``);
the gateway calls the services over RPC as them. Only events cross between
services; each hop carries the correlation and causation ids (the whole run
shares one, sent as ``X-Correlation-Id``). The platform must run on the offset
clock (``make run`` does): the scenario moves it forward to let notice periods
pass. Every run uses fresh ids, so it can run again on the same database. When
nothing is running, the demo starts the platform itself and stops it at the end.

Training and talent take their part: the appointee of the clean path is
enrolled in the open induction program (任职培训) as cadre appoints them, and
appears in the talent pool with the post; and in a fourth
story, a cadre short of the training hours a selection asks for is refused,
completes a program, and is then admitted (``training_opens_the_way``).

Grassroots works in the open too (``grassroots_in_the_open``): a village
branch of seven elects its committee by public nomination and direct
election (the list on notice, a meeting refused without four fifths present,
a secret ballot, the approval); and an applicant goes the whole way to full
member, the branch waiting for the short course that training runs.

The stories take anything with ``.cadre``, ``.feedback``, ``.supervision``,
``.training``, ``.grassroots`` and ``.talent`` callers: the gateway's HTTP clients here, an
RPC proxy in the end-to-end tests.
"""

from services.scenarios.appointment import Outcome, appointment_under_public_watch, run_selection
from services.scenarios.demo import main, through_gateway
from services.scenarios.grassroots import GrassrootsOutcome, grassroots_in_the_open
from services.scenarios.training import TrainingOutcome, publish_program, run_program, training_opens_the_way

__all__ = [
    "GrassrootsOutcome",
    "Outcome",
    "TrainingOutcome",
    "appointment_under_public_watch",
    "grassroots_in_the_open",
    "main",
    "publish_program",
    "run_program",
    "run_selection",
    "through_gateway",
    "training_opens_the_way",
]
