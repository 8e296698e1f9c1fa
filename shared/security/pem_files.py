"""Keys read from PEM files, again only when a file changes (a rotated Secret is picked up, no restart).

Shared by the signing keys (``shared.security.keys``) and feedback's identity
key (``shared.security.sealed_identity``): one reader, cached on the file's
path and modification time.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key


def mtime(path: Path) -> float:
    """The file's modification time, or -1 when there is no such file."""
    try:
        return path.stat().st_mtime
    except OSError:
        return -1.0


def read_pem(path: Path, private: bool) -> Any | None:
    """The key in ``path`` (private or public), or None when the file is absent; ``ValueError`` when it is no key."""
    return _read(str(path), mtime(path), private)


@cache
def _read(path: str, modified: float, private: bool) -> Any | None:
    if modified < 0:
        return None
    data = Path(path).read_bytes()
    return load_pem_private_key(data, password=None) if private else load_pem_public_key(data)
