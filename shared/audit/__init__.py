"""Auditing the stores: verify the hash chains and signed checkpoints, read any
record as it was at any moment, trace causes across services, replay projections.

The CLI (``shared.cli.orgctl``) is a thin layer over these modules.
"""
