"""Cadre work in plain Python: selection processes, cadre records, appraisal cycles."""
