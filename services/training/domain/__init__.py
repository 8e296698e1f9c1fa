"""The training service's domain: programs, enrolments, learners' ledgers, requirements, suggestions."""
