"""``python -m deploy.manifests [--check]``: write the deployment files, or say which differ."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from deploy.manifests import compose, kustomize

ROOT = Path(__file__).resolve().parent.parent.parent
K8S = ROOT / "k8s"


def rendered() -> dict[Path, str]:
    """Every rendered file, by path."""
    return {
        ROOT / "docker-compose.yml": compose.render(),
        **kustomize.base(K8S / "base"),
        **kustomize.local(K8S / "local"),
        **kustomize.production(K8S / "production"),
    }


def stale(files: dict[Path, str]) -> list[Path]:
    """Files under k8s/ that the renderer no longer writes."""
    return sorted(path for path in K8S.rglob("*") if path.is_file() and path not in files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file differs")
    args = parser.parse_args(argv)
    files = rendered()
    differ = [path for path, text in files.items() if not path.is_file() or path.read_text() != text]
    extra = stale(files)
    if args.check:
        for path in [*differ, *extra]:
            print(f"{path.relative_to(ROOT)}: not as rendered (make manifests)", file=sys.stderr)
        return 1 if differ or extra else 0
    for path in extra:
        path.unlink()
        print(f"removed {path.relative_to(ROOT)}")
    for path in differ:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files[path])
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
