"""Oversight in plain Python: supervision cases about cadres, and inspection tasks."""
