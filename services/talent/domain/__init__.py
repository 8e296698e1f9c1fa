"""The talent service's domain: talent records and evaluations, talent programs, platforms and needs."""
