"""``orgctl audit``: one command group, filled by ``audit_reading`` (history, as-of, trace, upcast-check) and ``audit_integrity`` (verify, heads, proofs)."""

from __future__ import annotations

import typer

audit_app = typer.Typer(help="Read, trace and verify the record.", no_args_is_help=True)
