"""orgctl keys and orgctl token: the local key set, and bearer tokens from the local token issuer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shared.cli import common as cli
from shared.cli.common import USAGE, JsonOption, console
from shared.config import Settings

# -- keys and tokens ---------------------------------------------------------------------------

keys_app = typer.Typer(help="The platform's signing keys (local runs).", no_args_is_help=True)
token_app = typer.Typer(help="Bearer tokens for the gateway, from the local token issuer.", no_args_is_help=True)


def _keys_dir(directory: Path | None = None) -> Path:
    from shared.config import LOCAL_KEYS_DIR

    return directory or Path(Settings.from_env().security.keys_dir or LOCAL_KEYS_DIR)


@keys_app.command("init")
def keys_init(
    directory: Annotated[Path | None, typer.Argument(help="Default: SECURITY_KEYS_DIR, else .orgwork/keys.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Make the missing key pairs (every holder's Ed25519, feedback's X25519 identity pair) and tokens.jwks.json."""
    from shared.security import keys, tokens

    target = _keys_dir(directory)
    made = keys.generate(target, list(keys.HOLDERS))
    jwks = tokens.write_jwks(target)
    if as_json:
        cli.emit({"directory": str(target), "made": made, "jwks": str(jwks)})
        return
    console.print(f"{target}: {', '.join(made) if made else 'every key was there already'}; JWKS at {jwks}")


@token_app.command("issue")
def token_issue(
    role: Annotated[list[str], typer.Option("--role", "-r", help="A role of the roles table; repeat for more.")],
    subject: Annotated[str, typer.Option("--subject", "-s", help="Who holds the token (its sub).")],
    minutes: Annotated[float, typer.Option(help="How long it lives.", min=1, max=7 * 24 * 60)] = 60.0,
    as_json: JsonOption = False,
) -> None:
    """Mint a bearer token signed with the tokens key (SECURITY_KEYS_DIR, else .orgwork/keys)."""
    from shared.security import tokens
    from shared.security.keys import KeyRing, MissingKey
    from shared.security.policy import ROLES

    unknown = sorted(set(role) - set(ROLES))
    if unknown:
        raise typer.BadParameter(f"unknown role(s) {unknown}; the roles are {', '.join(ROLES)}", param_hint="--role")
    gateway = Settings.from_env().gateway
    target = _keys_dir()
    try:
        token = tokens.issue(
            KeyRing(target),
            subject,
            role,
            minutes=minutes,
            issuer=gateway.token_issuer,
            audience=gateway.token_audience,
        )
    except MissingKey as error:
        cli.fail(f"{error} (make the keys with `orgctl keys init`)", USAGE)
    if as_json:
        cli.emit({"token": token, "subject": subject, "roles": role, "minutes": minutes})
    else:
        print(token)
