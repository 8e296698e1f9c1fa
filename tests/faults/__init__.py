"""The fault suite (``make faults``): restarts the servers, so it is not part of ``make test``."""
