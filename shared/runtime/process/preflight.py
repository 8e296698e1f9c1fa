"""What a process must have before it starts, checked before it connects to anything.

A service that signs no tree heads, or keeps them only in the database they
vouch for, still answers every call and looks healthy: the gap shows only when
an auditor asks for proof, months later, and then nothing can be proven. So in
``PLATFORM_MODE=production`` a service refuses to start without a usable audit
signing key and a writable head sink, naming every missing setting at once (a
crash loop that names one thing per restart is slow to fix). In
``development`` the same gaps are warnings, so ``make test`` and ad-hoc runs
stay simple. A mode that is neither is refused in any mode, and checked as
production: a typo must not lower the bar.

The keys are resolved by ``shared.audit.heads``, the signer's own resolver,
so what passes here is what the service then signs with.

The gateway keeps no store and signs no heads, so it checks the mode alone.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from shared.audit.heads import load_signing_key, trusted_public_key
from shared.audit.proofs import raw_public_key
from shared.config import Settings
from shared.security import sealed_identity

#: The one service that opens identities sealed at the gateway (``shared.security.sealed_identity``).
IDENTITY_RECIPIENT = "feedback"
DEVELOPMENT = "development"
PRODUCTION = "production"
MODES = (DEVELOPMENT, PRODUCTION)
#: The exit status of a process refused at start (sysexits' EX_CONFIG): a configuration error, not a crash.
REFUSED = 78

log = logging.getLogger("orgwork.preflight")


def preflight(settings: Settings, service_name: str, *, signs_heads: bool = True) -> list[str]:
    """The problems that stop ``service_name`` from starting; empty when it may start.

    ``signs_heads`` is False for a process without a store (the gateway).
    """
    mode = settings.platform_mode
    problems = [] if mode in MODES else [f"PLATFORM_MODE={mode!r} is not a mode: use {' or '.join(MODES)}"]
    if mode != DEVELOPMENT and signs_heads:
        problems += audit_problems(settings, service_name)
    if mode != DEVELOPMENT and service_name == IDENTITY_RECIPIENT:
        problems += identity_key_problems(settings)
    return problems


def identity_key_problems(settings: Settings) -> list[str]:
    """Feedback opens the identities the gateway seals for it: without its private key every such submission fails."""
    try:
        sealed_identity.load_private(settings.security.keys_dir)
    except (LookupError, ValueError, OSError) as error:  # MissingIdentityKey, or a file that is no X25519 key
        return [
            f"feedback's identity key ({sealed_identity.PRIVATE_FILE} in SECURITY_KEYS_DIR) cannot be loaded: {error}"
        ]
    return []


def audit_problems(settings: Settings, service_name: str) -> list[str]:
    """What keeps ``service_name`` from signing its tree heads and publishing them outside the database."""
    return key_problems(settings) + sink_problems(settings.audit.head_sink, service_name)


def key_problems(settings: Settings) -> list[str]:
    """What keeps the tree heads from being signed with a key that auditors trust."""
    problems: list[str] = []
    key = None
    try:
        key = load_signing_key(settings)
    except (ValueError, OSError) as error:  # BadKey, and a key file that is unreadable or not PEM
        problems.append(f"the audit signing key ({signing_key_source(settings)}) does not parse: {error}")
    else:
        if key is None:
            problems.append(
                "no audit signing key: set AUDIT_SIGNING_KEY (base64 of the raw Ed25519 private key), "
                f"or AUDIT_SIGNING_KEY_FILE, or provide {signing_key_source(settings)}"
            )
    try:
        trusted = trusted_public_key(settings)
    except (ValueError, OSError) as error:
        problems.append(f"the audit public key ({trusted_key_source(settings)}) does not parse: {error}")
    else:
        if key is not None and trusted is not None and trusted != raw_public_key(key):
            problems.append(
                f"the audit signing key ({signing_key_source(settings)}) is not the pair of the trusted "
                f"public key ({trusted_key_source(settings)}): no auditor could verify its heads"
            )
    return problems


def signing_key_source(settings: Settings) -> str:
    """Where the signing key is read from, in the resolver's order: said at start-up, never the key itself."""
    audit, keys_dir = settings.audit, settings.security.keys_dir
    if audit.signing_key:
        return "AUDIT_SIGNING_KEY"
    if audit.signing_key_file:
        return f"AUDIT_SIGNING_KEY_FILE={audit.signing_key_file}"
    return f"{Path(keys_dir) / 'audit.key'}" if keys_dir else "audit.key in SECURITY_KEYS_DIR (not set)"


def trusted_key_source(settings: Settings) -> str:
    """Where the public key auditors trust is read from."""
    keys_dir = settings.security.keys_dir
    if settings.audit.public_key:
        return "AUDIT_PUBLIC_KEY"
    return f"{Path(keys_dir) / 'audit.pub'}" if keys_dir else "audit.pub in SECURITY_KEYS_DIR (not set)"


def sink_problems(head_sink: str, service_name: str) -> list[str]:
    """Whether ``<service>.heads.jsonl`` can be appended to in ``head_sink``.

    Tried with the very open the sink makes (append, create if missing), not
    with permission bits, which a network file system or an ACL can belie. The
    directory is never created here: a missing one is most likely a volume that
    was not mounted, and heads written beside it would be lost with the pod.
    """
    if not head_sink:
        return ["AUDIT_HEAD_SINK is not set: the tree heads would be kept only in the database they vouch for"]
    directory = Path(head_sink)
    if not directory.is_dir():
        return [f"AUDIT_HEAD_SINK={head_sink} is not a directory (is its volume mounted?)"]
    target = directory / f"{service_name}.heads.jsonl"
    try:
        with target.open("ab"):
            pass
    except OSError as error:
        return [f"AUDIT_HEAD_SINK={head_sink} is not writable: {target.name} cannot be appended to ({error.strerror})"]
    return []


def check_or_exit(settings: Settings, service_name: str, *, signs_heads: bool = True) -> None:
    """Refuse to start (exit ``REFUSED``) on any problem; in development, warn of what production would refuse.

    Called first thing where a process starts, after logging is configured and
    before any connection, so that the refusal is the only thing it says.
    """
    problems = preflight(settings, service_name, signs_heads=signs_heads)
    if problems:
        for problem in problems:
            log.critical("%s refuses to start: %s", service_name, problem)
        log.critical(
            "%s: %d problem(s) with its settings (PLATFORM_MODE=%s); exiting with status %d",
            service_name,
            len(problems),
            settings.platform_mode,
            REFUSED,
        )
        sys.stderr.flush()
        raise SystemExit(REFUSED)
    if settings.platform_mode == DEVELOPMENT and signs_heads:
        for gap in audit_problems(settings, service_name):
            log.warning("%s (development: starting anyway; production would refuse)", gap)
