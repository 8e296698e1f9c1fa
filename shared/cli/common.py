"""What every orgctl command shares: the console, the options, the exit codes, and how to reach the platform."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console

from shared.config import Settings
from shared.db.database import Database
from shared.runtime.process.catalog import existing_services

console = Console()
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
ServiceOption = Annotated[str | None, typer.Option("--service", "-s", help="Only this service.")]

#: Exit codes scripts can trust: all well; the command found a problem; the command was used wrongly.
OK, PROBLEM, USAGE = 0, 1, 2
#: ``orgctl audit verify``'s grades, most serious first: the record was changed; something could not
#: be checked (no trusted key, say); events after the latest signed head, not yet covered.
MANIPULATION, GAP, NOT_YET_COVERED = 3, 4, 5


def database() -> Database:
    return Database(Settings.from_env().database_url, size=2, application_name="orgctl")


def services(only: str | None = None) -> list[str]:
    names = existing_services()
    if only is not None:
        if only not in names:
            raise typer.BadParameter(
                f"no service {only!r}; the services are {', '.join(names)}", param_hint="--service"
            )
        return [only]
    return names


def emit(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def fail(message: str, code: int = PROBLEM) -> None:
    console.print(f"[red]{message}[/red]")
    raise typer.Exit(code)


def operator_rpc() -> Any:
    """A client calling as the operator, vouched for by the operator's own key (``SECURITY_KEYS_DIR``)."""
    import getpass

    from shared.runtime.messaging.client import rpc_client
    from shared.security.assertions import Identity
    from shared.security.policy import OPERATOR

    operator = Identity(f"operator:{getpass.getuser()}", (OPERATOR,), OPERATOR)
    return rpc_client(timeout=10, identity=operator, issuer=OPERATOR)
